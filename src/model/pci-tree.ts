/**
 * The PCI tree of a host as data, for `iova groups`: host bridges, ports and devices nested as
 * the bus numbers say, each port with its ACS P2P Request Redirect state, each device with its
 * IOMMU group and name, and for each device the peers a switch would hand its DMA to. The tree
 * comes from {@link PciTopology} and the peers from {@link p2pHoles}: the routing rules live
 * there, not here.
 */
import type { BridgeRole, HostFacts, PciBridge } from './host.js';
import { p2pHoles, redirectsPeerRequests } from './p2p.js';
import { compareRanges, type IovaRange } from './range.js';
import { busOf, PciTopology } from './topology.js';

/** ACS P2P Request Redirect on a port: on, off, or unknown when no ACS capability was seen. */
export type AcsRedirect = 'on' | 'off' | 'unknown';

export interface PciTreeNode {
  id: string;
  kind: 'host-bridge' | BridgeRole | 'device';
  /** Devices: the name the source gave (lspci's description). */
  description?: string;
  /** Devices: the IOMMU group. */
  group?: number;
  /** Bridges: the port's redirect state. */
  acsRedirect?: AcsRedirect;
  children: PciTreeNode[];
}

/** What one device's DMA reaches without the IOMMU: each peer and which of its ranges. */
export interface PeerReach {
  device: string;
  /** The downstream ports whose missing redirect lets it through. */
  ports: string[];
  /** Each peer and its ranges the DMA reaches, lowest first, with why (the hole's note). */
  peers: Array<{ peer: string; ranges: PeerRange[] }>;
}

export interface PeerRange extends IovaRange {
  /** `BAR0`, `bridge window`, `expansion ROM`, … */
  what: string;
  note?: string;
}

export interface PciTreeView {
  roots: PciTreeNode[];
  groups: Array<{ id: number; devices: string[] }>;
  peers: PeerReach[];
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function acsRedirect(port: PciBridge): AcsRedirect {
  if (!port.acs) return 'unknown';
  return redirectsPeerRequests(port) ? 'on' : 'off';
}

/** Build the view of a host's PCI devices, IOMMU groups and peer-to-peer reach. */
export function pciTreeOf(host: HostFacts): PciTreeView {
  const topology = new PciTopology(host);
  const bridgeNodes = new Map<PciBridge, PciTreeNode>();
  for (const b of host.pci.bridges) bridgeNodes.set(b, { id: b.id, kind: topology.role(b), acsRedirect: acsRedirect(b), children: [] });
  const hostNodes = [...host.pci.hostBridges].sort(byId).map((h) => ({ bridge: h, node: { id: h.id, kind: 'host-bridge' as const, children: [] as PciTreeNode[] } }));
  const roots: PciTreeNode[] = [];
  // Something with nothing above it hangs from the host bridge whose buses hold it, else is a root.
  const hang = (node: PciTreeNode, segment: number | undefined, bus: number | undefined) => {
    const h = hostNodes.find(({ bridge }) => bridge.segment === segment && bus !== undefined && bus >= bridge.busFirst && bus <= bridge.busLast);
    (h ? h.node.children : roots).push(node);
  };
  for (const [b, node] of bridgeNodes) {
    const parent = topology.parent(b);
    if (parent) bridgeNodes.get(parent)?.children.push(node);
    else hang(node, b.segment, b.primaryBus ?? busOf(b.id)?.bus ?? b.secondaryBus);
  }
  const bridgeById = new Map([...bridgeNodes.values()].map((n) => [n.id, n]));
  for (const d of host.devices) {
    const asBridge = bridgeById.get(d.id);
    if (asBridge) {
      // A port the source also lists as a device: one node, with the device's name and group.
      asBridge.description = d.description;
      asBridge.group = d.group;
      continue;
    }
    const node: PciTreeNode = { id: d.id, kind: 'device', description: d.description, group: d.group, children: [] };
    const above = topology.pathToRoot(d.id)[0];
    if (above) bridgeNodes.get(above)?.children.push(node);
    else hang(node, busOf(d.id)?.segment, busOf(d.id)?.bus);
  }
  const sort = (nodes: PciTreeNode[]) => {
    nodes.sort(byId);
    for (const n of nodes) sort(n.children);
  };
  const all = [...hostNodes.map((h) => h.node), ...roots];
  sort(all);

  const peers: PeerReach[] = [];
  for (const d of [...host.devices].sort(byId)) {
    const holes = p2pHoles(host, d.id, topology);
    if (holes.length === 0) continue;
    const reach = new Map<string, PeerRange[]>();
    const ports = new Set<string>();
    for (const h of holes) {
      const peer = h.source.peer as string;
      const list = reach.get(peer) ?? [];
      list.push({ what: h.source.what, start: h.start, last: h.last, ...(h.source.note ? { note: h.source.note } : {}) });
      reach.set(peer, list);
      if (h.source.port) ports.add(h.source.port);
    }
    for (const list of reach.values()) list.sort((a, b) => compareRanges(a, b) || (a.what < b.what ? -1 : 1));
    peers.push({
      device: d.id,
      ports: [...ports].sort(),
      peers: [...reach].map(([peer, ranges]) => ({ peer, ranges })).sort((a, b) => (a.peer < b.peer ? -1 : 1)),
    });
  }
  const groups = [...host.groups].sort((a, b) => a.id - b.id).map((g) => ({ id: g.id, devices: [...g.devices].sort() }));
  return { roots: all, groups, peers };
}
