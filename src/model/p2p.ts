/**
 * Holes a device's DMA cannot use although no reserved region says so.
 *
 * Peer-to-peer: a PCIe switch routes a request from one downstream port straight to another
 * downstream port (or to the switch's own upstream-port BARs) when the address falls in that
 * port's window, unless the ingress port has ACS P2P Request Redirect enabled, which sends the
 * request upstream to the IOMMU. So for a device below a non-redirecting downstream port,
 * every address decoded by its peers at that switch is unusable as an IOVA. We list each peer
 * BAR (the most precise name) and each peer window (which also covers what no BAR claims).
 * Routing between functions of one multi-function device and between root ports is not
 * modelled here; the latter is what the DMA-API-only host-bridge holes stand for.
 *
 * DMA-API-only: dma-iommu reserves, for PCI devices, every memory window of the device's host
 * bridge (at bus address) and every gap around the host bridge's dma-ranges.
 */
import { MAX_ADDRESS } from './address.js';
import type { Hole } from './hole.js';
import type { Bar, HostFacts, PciBridge } from './host.js';
import { compareRanges, type IovaRange } from './range.js';
import { PciTopology } from './topology.js';

/** Whether a switch downstream port sends peer-to-peer requests upstream instead of to the peer. */
export function redirectsPeerRequests(port: PciBridge): boolean {
  return port.acs?.control.requestRedirect === true;
}

function barName(bar: Bar): string {
  if (bar.bar === 'rom') return 'expansion ROM';
  return bar.bar === undefined ? 'memory resource' : `BAR${bar.bar}`;
}

/** Peer-to-peer holes of one device, one per peer BAR and per peer window. */
export function p2pHoles(host: HostFacts, deviceId: string, topology = new PciTopology(host)): Hole[] {
  const holes: Hole[] = [];
  for (const port of topology.pathToRoot(deviceId)) {
    if (topology.role(port) !== 'switch-downstream' || redirectsPeerRequests(port)) continue;
    const upstream = topology.parent(port);
    if (!upstream) continue;
    const why = port.acs
      ? `switch ${upstream.id} routes it directly: ACS P2P Request Redirect is off on ${port.id}`
      : `switch ${upstream.id} routes it directly: ${port.id} has no ACS capability`;
    const hole = (r: IovaRange, type: Hole['type'], what: string, peer: string, note?: string): Hole => ({
      start: r.start,
      last: r.last,
      kind: 'p2p',
      type,
      source: { what, peer, port: port.id, device: deviceId, note: note ? `${why}; ${note}` : why },
    });
    for (const bar of upstream.bars) holes.push(hole(bar, 'peer-bar', barName(bar), upstream.id, 'the switch upstream port'));
    for (const sibling of topology.children(upstream)) {
      if (sibling === port) continue;
      for (const w of sibling.windows) {
        holes.push(hole(w, 'peer-window', w.prefetchable ? 'prefetchable bridge window' : 'bridge window', sibling.id));
      }
      for (const bar of sibling.bars) holes.push(hole(bar, 'peer-bar', barName(bar), sibling.id));
      for (const { owner, bar } of topology.barsBelow(sibling)) {
        holes.push(hole(bar, 'peer-bar', barName(bar), owner, bar.disabled ? `below ${sibling.id}; disabled now, decodes once enabled` : `below ${sibling.id}`));
      }
    }
  }
  return holes;
}

/** DMA-API-only holes of one PCI device: its host bridge's windows and dma-ranges gaps. */
export function dmaApiHoles(host: HostFacts, deviceId: string, topology = new PciTopology(host)): Hole[] {
  const bridge = topology.hostBridgeOf(deviceId);
  if (!bridge) return [];
  const holes: Hole[] = [];
  for (const w of bridge.windows) {
    if (w.offset > w.start) continue;
    holes.push({
      start: w.start - w.offset,
      last: w.last - w.offset,
      kind: 'dma-api',
      type: 'host-bridge-window',
      source: { ...w.source, what: w.source.what || 'host-bridge window', device: deviceId, port: bridge.id },
    });
  }
  const ranges = [...bridge.dmaRanges].sort(compareRanges);
  let next = 0n;
  for (const r of ranges) {
    if (r.start > next) holes.push(gap(next, r.start - 1n, bridge.id, deviceId, r.source));
    next = r.last + 1n;
  }
  if (ranges.length > 0 && next <= MAX_ADDRESS) holes.push(gap(next, MAX_ADDRESS, bridge.id, deviceId, ranges[ranges.length - 1].source));
  return holes;
}

function gap(start: bigint, last: bigint, bridge: string, deviceId: string, near: Hole['source']): Hole {
  return {
    start,
    last,
    kind: 'dma-api',
    type: 'dma-ranges-gap',
    source: { ...near, what: 'gap between dma-ranges', port: bridge, device: deviceId },
  };
}
