/**
 * The PCI tree of a host, rebuilt from bus numbers: which bridge sits above a bus, which
 * devices and bridges sit below a bridge, and what role a bridge plays when the source did
 * not say (dmesg and /proc/iomem do not).
 */
import type { Bar, BridgeRole, Device, HostBridge, HostFacts, PciBridge } from './host.js';
import { isBdf, parseBdf } from './pci.js';

/** Segment and bus of a PCI device id, or undefined for platform devices. */
export function busOf(id: string): { segment: number; bus: number } | undefined {
  if (!isBdf(id)) return undefined;
  const b = parseBdf(id);
  return { segment: b.segment, bus: b.bus };
}

export class PciTopology {
  private readonly bridges: readonly PciBridge[];
  private readonly devices: readonly Device[];
  private readonly hostBridges: readonly HostBridge[];
  private readonly parents = new Map<PciBridge, PciBridge | undefined>();
  private readonly roles = new Map<PciBridge, BridgeRole>();

  constructor(host: HostFacts) {
    this.bridges = host.pci.bridges;
    this.devices = host.devices;
    this.hostBridges = host.pci.hostBridges;
    for (const b of this.bridges) this.parents.set(b, this.findParent(b));
    for (const b of this.bridges) this.roles.set(b, b.role !== 'unknown' ? b.role : this.inferRole(b));
  }

  /** The bridge whose secondary side is the closest to `bus` (narrowest bus range holding it). */
  bridgeAbove(segment: number, bus: number, except?: PciBridge): PciBridge | undefined {
    let best: PciBridge | undefined;
    for (const b of this.bridges) {
      if (b === except || b.segment !== segment || bus < b.secondaryBus || bus > b.subordinateBus) continue;
      if (!best || b.subordinateBus - b.secondaryBus < best.subordinateBus - best.secondaryBus) best = b;
    }
    return best;
  }

  parent(bridge: PciBridge): PciBridge | undefined {
    return this.parents.get(bridge);
  }

  role(bridge: PciBridge): BridgeRole {
    return this.roles.get(bridge) ?? bridge.role;
  }

  /** Bridges from the one just above the device up to the root port, closest first. */
  pathToRoot(deviceId: string): PciBridge[] {
    const where = busOf(deviceId);
    if (!where) return [];
    const path: PciBridge[] = [];
    for (let b = this.bridgeAbove(where.segment, where.bus); b && !path.includes(b); b = this.parent(b)) path.push(b);
    return path;
  }

  /** Bridges whose parent is `bridge` (its downstream ports, for a switch upstream port). */
  children(bridge: PciBridge): PciBridge[] {
    return this.bridges.filter((b) => this.parent(b) === bridge);
  }

  /** Devices on buses below `bridge` (secondary to subordinate). */
  devicesBelow(bridge: PciBridge): Device[] {
    return this.devices.filter((d) => {
      const where = busOf(d.id);
      return where !== undefined && where.segment === bridge.segment && where.bus >= bridge.secondaryBus && where.bus <= bridge.subordinateBus;
    });
  }

  /** Bridges strictly below `bridge`. */
  bridgesBelow(bridge: PciBridge): PciBridge[] {
    const out: PciBridge[] = [];
    const queue = this.children(bridge);
    while (queue.length > 0) {
      const b = queue.shift() as PciBridge;
      out.push(b);
      queue.push(...this.children(b));
    }
    return out;
  }

  /** Every BAR decoded below `bridge`, with the id of its owner (device or bridge). */
  barsBelow(bridge: PciBridge): Array<{ owner: string; bar: Bar }> {
    const out: Array<{ owner: string; bar: Bar }> = [];
    for (const d of this.devicesBelow(bridge)) for (const bar of d.bars) out.push({ owner: d.id, bar });
    for (const b of this.bridgesBelow(bridge)) for (const bar of b.bars) out.push({ owner: b.id, bar });
    return out;
  }

  /** The host bridge whose bus range holds the device's bus. */
  hostBridgeOf(deviceId: string): HostBridge | undefined {
    const where = busOf(deviceId);
    if (!where) return undefined;
    return this.hostBridges.find((h) => h.segment === where.segment && where.bus >= h.busFirst && where.bus <= h.busLast);
  }

  private findParent(b: PciBridge): PciBridge | undefined {
    const primary = b.primaryBus ?? busOf(b.id)?.bus;
    if (primary !== undefined) return this.bridgeAbove(b.segment, primary, b);
    // Only the bus it leads to is known: the narrowest other bridge that holds its whole range.
    let best: PciBridge | undefined;
    for (const p of this.bridges) {
      if (p === b || p.segment !== b.segment) continue;
      const holds = p.secondaryBus <= b.secondaryBus && b.subordinateBus <= p.subordinateBus;
      const wider = p.subordinateBus - p.secondaryBus > b.subordinateBus - b.secondaryBus || p.secondaryBus < b.secondaryBus;
      if (holds && wider && (!best || p.subordinateBus - p.secondaryBus < best.subordinateBus - best.secondaryBus)) best = p;
    }
    return best;
  }

  /**
   * A bridge with no bridge above is a root port; one with bridges on its secondary bus
   * below a root port or downstream port is a switch upstream port; the children of a switch
   * upstream port are its downstream ports.
   */
  private inferRole(b: PciBridge): BridgeRole {
    const parent = this.parent(b);
    if (!parent) return 'root-port';
    const parentRole = parent.role !== 'unknown' ? parent.role : this.inferRole(parent);
    if (parentRole === 'switch-upstream') return 'switch-downstream';
    const hasChildren = this.bridges.some((c) => c !== b && this.findParent(c) === b);
    return hasChildren ? 'switch-upstream' : 'pci-bridge';
  }
}
