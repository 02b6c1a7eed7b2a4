/**
 * Collecting facts from any number of sources into one {@link HostFacts}.
 *
 * Importers do not build `HostFacts` directly: they report facts to a {@link HostBuilder},
 * which merges them as they arrive and settles what can only be settled once every source
 * is in (which bridge a bare bus number belongs to, which group a device-scoped region is in).
 *
 * Merge rules:
 * - Devices merge by id, groups by number, host bridges by `segment:bus`. Bridges merge by
 *   BDF; a bridge known only by the bus it leads to (`bus 0000:61`, from /proc/iomem or a
 *   `pci_bus` log line) merges into the bridge whose secondary bus that is, when any source
 *   names it (a window both give keeps the provenance of the source that named the BDF).
 * - The same fact twice (same range and type, same window) is kept once, with the first
 *   provenance and the notes of both.
 * - Conflicting facts — two platforms or address widths, a device in two groups, two values
 *   for one BAR, two sets of bus numbers or ACS bits for one bridge — keep the value of the
 *   **first** source (sources are read in the order given, so put the most trusted first) and
 *   add a warning naming both places. One exception: within one kernel log, a later
 *   assignment of a BAR replaces an earlier one, because the log is chronological and the
 *   kernel does reassign BARs.
 * - Where the contract needs a value no source gives, the assumption is written into the
 *   provenance note: a bridge known only by its bus gets subordinate = secondary (a lower
 *   bound); a host bridge without a bus range reaches up to the next root bus of its segment
 *   (or ff).
 * - Facts that cannot be placed are reported, not dropped silently: a bridge window of a
 *   bridge whose bus numbers no source gives cannot be a {@link PciBridge} (its secondary bus
 *   is required), so it becomes a warning; that bridge's own BARs stay on its device entry.
 */
import type {
  AcsFlags,
  ImportWarningKind,
  Bar,
  BridgeRole,
  BridgeWindow,
  Device,
  HostBridge,
  HostBridgeWindow,
  HostFacts,
  IommuGeometry,
  IommuGroup,
  PciBridge,
  PlatformSpec,
  ReservedRegion,
} from '../host.js';
import { hex } from '../address.js';
import { compareText } from '../compare.js';
import { emptyHost } from '../host.js';
import { formatBus, hex2 } from '../pci.js';
import { describePlace, describeProvenance, type Provenance } from '../provenance.js';
import { busOf } from '../topology.js';
import { compareRanges, formatRange, type IovaRange, sameRange } from '../range.js';
import { noIommuFactsWarning, unknownWidthMessage, weakWidthMessage } from './assumptions.js';
import { provenance, withNote } from './common.js';

/** A value and where it came from. */
export interface Valued<T> {
  value: T;
  source: Provenance;
}

/** What the builder knows about one PCI function. */
export interface DeviceRecord {
  id: string;
  group?: Valued<number>;
  dmaMaskBits?: Valued<number>;
  description?: string;
  bars: Bar[];
  /** Regions read through the device's `iommu_group` link: its group's, number unknown so far. */
  groupRegions: ReservedRegion[];
  source: Provenance;
}

/** What the builder knows about one bridge. */
export interface BridgeRecord {
  /** BDF, or `bus SSSS:BB` for a bridge known only by its secondary bus. */
  id: string;
  segment: number;
  primaryBus?: number;
  secondaryBus?: Valued<number>;
  subordinateBus?: Valued<number>;
  role: Valued<BridgeRole>;
  windows: BridgeWindow[];
  acs?: Valued<{ capability: AcsFlags; control: AcsFlags }>;
  source: Provenance;
}

/** What the builder knows about one host bridge. */
export interface HostBridgeRecord {
  segment: number;
  busFirst: number;
  busLast?: Valued<number>;
  windows: HostBridgeWindow[];
  source: Provenance;
}

/** What the builder knows about one IOMMU group. */
export interface GroupRecord {
  id: number;
  reservedRegions: ReservedRegion[];
  source: Provenance;
}

/** Options of {@link HostBuilder.addBar}. */
export interface AddBarOptions {
  /** A different value for the same BAR number from the same file replaces the old one. */
  chronological?: boolean;
}

/** Accumulates facts from importers; {@link HostBuilder.finish} turns them into `HostFacts`. */
export class HostBuilder {
  private platform?: PlatformSpec;
  /** Whether the platform's width came only from a weak source (see setPlatform). */
  private platformWidthWeak = false;
  private iommu?: IommuGeometry;
  private readonly hostRegions: ReservedRegion[] = [];
  private readonly groups = new Map<number, GroupRecord>();
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly bridges = new Map<string, BridgeRecord>();
  private readonly hostBridges = new Map<string, HostBridgeRecord>();
  private readonly sources: Array<{ file: string; kind: string }> = [];
  private readonly warnings: HostFacts['warnings'] = [];
  private readonly texts = new Map<string, readonly string[]>();
  private result?: HostFacts;

  constructor(readonly name: string) {}

  /** Record a source, in reading order (warnings are sorted by it). */
  addSource(file: string, kind: string): void {
    this.sources.push({ file, kind });
  }

  /** Lines of a file, so that conflict warnings can quote the line they are about. */
  registerLines(file: string, lines: readonly string[]): void {
    this.texts.set(file, lines);
  }

  /**
   * A warning about `line` of `file` (line 0: about the whole file); `text` defaults to that
   * line. `kind` says what it is about (a line not read, by default).
   */
  warn(file: string, line: number, message: string, text?: string, kind: ImportWarningKind = 'skipped-line'): void {
    this.warnings.push({ file, line, message, text: text ?? this.textAt(file, line), kind });
  }

  /** Record an assumption made where no source gave a value, at the place `source` names. */
  assume(source: Provenance, message: string): void {
    this.warnAt(source, message, 'assumption');
  }

  /** Warn about the place `source` names. */
  private warnAt(source: Provenance, message: string, kind: ImportWarningKind = 'skipped-line'): void {
    this.warn(source.file ?? '', source.line ?? 0, message, undefined, kind);
  }

  private textAt(file: string, line: number): string {
    return this.texts.get(file)?.[line - 1] ?? '';
  }

  // ---- platform and geometry -------------------------------------------------------------

  /**
   * The platform. A width from a weak source (`weakWidth`: the DMAR table's host address
   * width) gives way to one from a strong source (a capability register, the kernel's own
   * `iommu width`) whatever the order; between sources of the same strength the first wins.
   */
  setPlatform(spec: PlatformSpec, options: { weakWidth?: boolean } = {}): void {
    const weak = options.weakWidth === true && spec.addressWidth !== undefined;
    const current = this.platform;
    if (!current) {
      this.platform = spec;
      this.platformWidthWeak = weak;
      return;
    }
    if (current.profile !== spec.profile) {
      this.conflict(spec.source, `platform ${spec.profile}`, `platform ${current.profile}`, current.source);
      return;
    }
    if (spec.addressWidth === undefined) return;
    if (current.addressWidth === undefined || (this.platformWidthWeak && !weak)) {
      this.platform = { ...current, addressWidth: spec.addressWidth, source: spec.source };
      this.platformWidthWeak = weak;
    } else if (weak && !this.platformWidthWeak) {
      return; // a stronger source already gave the width
    } else if (current.addressWidth !== spec.addressWidth) {
      this.conflict(spec.source, `address width ${spec.addressWidth}`, `address width ${current.addressWidth}`, current.source);
    }
  }

  /** The host's IOMMU geometry; the same geometry again only adds the new note. */
  setIommu(geometry: IommuGeometry): void {
    const current = this.iommu;
    if (!current) {
      this.iommu = geometry;
      return;
    }
    if (sameGeometry(current, geometry)) {
      if (geometry.source.note) this.iommu = { ...current, source: withNote(current.source, geometry.source.note) };
      return;
    }
    this.conflict(geometry.source, `IOMMU geometry ${describeGeometry(geometry)}`, describeGeometry(current), current.source);
  }

  // ---- reserved regions and groups -------------------------------------------------------

  /** A region that applies to every device of the host. */
  addHostRegion(region: ReservedRegion): void {
    addRegion(this.hostRegions, region);
  }

  addGroupRegion(group: number, region: ReservedRegion): void {
    addRegion(this.group(group, region.source).reservedRegions, region);
  }

  /** A region of the group `device` is in, when the source does not say which group that is. */
  addDeviceGroupRegion(device: string, region: ReservedRegion): void {
    addRegion(this.device(device, region.source).groupRegions, region);
  }

  /** Note that group `id` exists. */
  group(id: number, source: Provenance): GroupRecord {
    let record = this.groups.get(id);
    if (!record) {
      record = { id, reservedRegions: [], source: derived(source, 'IOMMU group', { group: id }) };
      this.groups.set(id, record);
    }
    return record;
  }

  /** Device `device` is in group `group`. */
  setDeviceGroup(device: string, group: number, source: Provenance): void {
    this.group(group, source);
    const record = this.device(device, source);
    if (!record.group) {
      record.group = { value: group, source };
    } else if (record.group.value !== group) {
      this.conflict(source, `device ${device} in IOMMU group ${group}`, `group ${record.group.value}`, record.group.source);
    }
  }

  // ---- devices -----------------------------------------------------------------------------

  /** The record of a PCI function (created on first mention). */
  device(id: string, source: Provenance): DeviceRecord {
    let record = this.devices.get(id);
    if (!record) {
      record = { id, bars: [], groupRegions: [], source: derived(source, 'device', { device: id }) };
      this.devices.set(id, record);
    }
    return record;
  }

  describe(device: string, description: string, source: Provenance): void {
    const record = this.device(device, source);
    record.description ??= description;
  }

  setDmaMask(device: string, bits: number, source: Provenance): void {
    const record = this.device(device, source);
    if (!record.dmaMaskBits) record.dmaMaskBits = { value: bits, source };
    else if (record.dmaMaskBits.value !== bits) {
      this.conflict(source, `DMA mask of ${device} ${bits} bits`, `${record.dmaMaskBits.value} bits`, record.dmaMaskBits.source);
    }
  }

  /** A memory BAR (or ROM) of a function; bridges' own BARs go here too. */
  addBar(device: string, bar: Bar, options: AddBarOptions = {}): void {
    const bars = this.device(device, bar.source).bars;
    const index = keyedIndex(barIndex, bars, barKey);
    const same = index.get(barKey(bar));
    if (same === undefined) {
      index.set(barKey(bar), bars.length);
      bars.push(bar);
      return;
    }
    const old = bars[same];
    if (sameRange(old, bar)) {
      bars[same] = mergeBar(old, bar);
    } else if (options.chronological && old.source.file === bar.source.file) {
      bars[same] = { ...bar, source: withNote(bar.source, `replaces ${formatRange(old)} from line ${old.source.line} (BAR reassigned)`) };
    } else {
      this.conflict(bar.source, `${bar.source.what} of ${device} at ${formatRange(bar)}`, formatRange(old), old.source);
    }
  }

  // ---- bridges -------------------------------------------------------------------------------

  /** The record of a bridge known by its BDF. */
  bridge(id: string, segment: number, source: Provenance): BridgeRecord {
    return this.bridgeRecord(id, segment, source);
  }

  /** The record of the bridge leading to bus `bus` of `segment`, when its BDF is unknown. */
  busBridge(segment: number, bus: number, source: Provenance): BridgeRecord {
    const record = this.bridgeRecord(busBridgeId(segment, bus), segment, source);
    record.secondaryBus ??= { value: bus, source };
    return record;
  }

  private bridgeRecord(id: string, segment: number, source: Provenance): BridgeRecord {
    let record = this.bridges.get(id);
    if (!record) {
      record = { id, segment, role: { value: 'unknown', source }, windows: [], source: derived(source, 'PCI bridge', { port: id }) };
      this.bridges.set(id, record);
    }
    return record;
  }

  /** Bus numbers of a bridge (subordinate defaults to secondary when the source gives one bus). */
  setBridgeBuses(
    record: BridgeRecord,
    buses: { primary?: number; secondary: number; subordinate: number },
    source: Provenance,
  ): void {
    if (buses.primary !== undefined) record.primaryBus ??= buses.primary;
    if (!record.secondaryBus) record.secondaryBus = { value: buses.secondary, source };
    else if (record.secondaryBus.value !== buses.secondary) {
      this.conflict(source, `secondary bus ${hex2(buses.secondary)} of ${record.id}`, hex2(record.secondaryBus.value), record.secondaryBus.source);
      return;
    }
    if (!record.subordinateBus) record.subordinateBus = { value: buses.subordinate, source };
    else if (record.subordinateBus.value !== buses.subordinate) {
      this.conflict(
        source,
        `subordinate bus ${hex2(buses.subordinate)} of ${record.id}`,
        hex2(record.subordinateBus.value),
        record.subordinateBus.source,
      );
    }
  }

  setBridgeRole(record: BridgeRecord, role: BridgeRole, source: Provenance): void {
    if (role === 'unknown') return;
    if (record.role.value === 'unknown') record.role = { value: role, source };
    else if (record.role.value !== role) this.conflict(source, `${record.id} as ${role}`, record.role.value, record.role.source);
  }

  setAcs(record: BridgeRecord, acs: { capability: AcsFlags; control: AcsFlags }, source: Provenance): void {
    if (!record.acs) record.acs = { value: acs, source };
    else if (JSON.stringify(record.acs.value) !== JSON.stringify(acs)) {
      this.conflict(source, `ACS bits of ${record.id}`, 'different ACS bits', record.acs.source);
    }
  }

  addBridgeWindow(record: BridgeRecord, window: BridgeWindow): void {
    const index = keyedIndex(windowIndex, record.windows, rangeKey);
    const same = index.get(rangeKey(window));
    if (same === undefined) {
      index.set(rangeKey(window), record.windows.length);
      record.windows.push(window);
    } else if (record.windows[same].prefetchable === undefined && window.prefetchable !== undefined) {
      record.windows[same] = { ...record.windows[same], prefetchable: window.prefetchable };
    }
  }

  // ---- host bridges --------------------------------------------------------------------------

  /** The host bridge whose root bus is `bus` of `segment`. */
  hostBridge(segment: number, bus: number, source: Provenance): HostBridgeRecord {
    const id = formatBus(segment, bus);
    let record = this.hostBridges.get(id);
    if (!record) {
      record = { segment, busFirst: bus, windows: [], source: derived(source, 'host bridge', { port: id, note: source.note }) };
      this.hostBridges.set(id, record);
    }
    return record;
  }

  setHostBridgeBusLast(record: HostBridgeRecord, busLast: number, source: Provenance): void {
    if (!record.busLast) record.busLast = { value: busLast, source };
    else if (record.busLast.value !== busLast) {
      const id = formatBus(record.segment, record.busFirst);
      this.conflict(source, `last bus ${hex2(busLast)} of host bridge ${id}`, hex2(record.busLast.value), record.busLast.source);
    }
  }

  addHostBridgeWindow(record: HostBridgeRecord, window: HostBridgeWindow): void {
    const key = (w: HostBridgeWindow) => `${rangeKey(w)} ${w.offset.toString(16)}`;
    const index = keyedIndex(hostWindowIndex, record.windows, key);
    if (index.has(key(window))) return;
    index.set(key(window), record.windows.length);
    record.windows.push(window);
  }

  // ---- conflicts -----------------------------------------------------------------------------

  private conflict(source: Provenance, claim: string, kept: string, keptSource: Provenance): void {
    this.warnAt(source, `conflict: ${claim} here, but ${kept} in ${where(keptSource)}; keeping ${kept} (the first source wins)`, 'conflict');
  }

  // ---- the result ----------------------------------------------------------------------------

  /**
   * The merged facts: everything settled, sorted, with the warnings of every source.
   * Settling is done once; later calls return the same result.
   */
  finish(): HostFacts {
    this.result ??= this.settle();
    return this.result;
  }

  private settle(): HostFacts {
    const host = emptyHost(this.name);
    if (this.platform) host.platform = this.platform;
    if (this.iommu) host.iommu = this.iommu;
    this.recordAssumptions();

    const bridges = this.settleBridges();
    const bridgeById = new Map(bridges.map((b) => [b.id, b]));

    const devices: Device[] = [];
    for (const record of this.devices.values()) {
      const bridge = bridgeById.get(record.id);
      const bars = dedupeBars(record.bars);
      if (bridge) bridge.bars = dedupeBars([...bridge.bars, ...bars]);
      let groupRegions = record.groupRegions;
      if (record.group && groupRegions.length > 0) {
        const group = this.groups.get(record.group.value);
        for (const r of groupRegions) addRegion(group!.reservedRegions, { ...r, source: { ...r.source, group: record.group.value } });
        groupRegions = [];
      }
      // A bridge's device entry is kept only for what only a device entry can say.
      if (bridge && !record.group && !record.dmaMaskBits && groupRegions.length === 0) continue;
      const device: Device = {
        id: record.id,
        reservedRegions: sortRegions(groupRegions),
        bars: bridge ? [] : sortRanges(bars),
        source: record.source,
      };
      if (record.group) device.group = record.group.value;
      if (record.dmaMaskBits) device.dmaMaskBits = record.dmaMaskBits.value;
      if (record.description !== undefined) device.description = record.description;
      devices.push(device);
    }
    // Canonical ids are fixed-width hex, so string order is numeric order.
    host.devices = devices.sort((a, b) => compareText(a.id, b.id));

    const members = new Map<number, string[]>();
    for (const d of devices) {
      if (d.group === undefined) continue;
      const list = members.get(d.group);
      if (list) list.push(d.id);
      else members.set(d.group, [d.id]);
    }
    const groups: IommuGroup[] = [...this.groups.values()].map((g) => ({
      id: g.id,
      reservedRegions: sortRegions(g.reservedRegions),
      devices: members.get(g.id) ?? [],
      source: g.source,
    }));
    host.groups = groups.sort((a, b) => a.id - b.id);
    host.reservedRegions = sortRegions(this.hostRegions);
    host.pci = { hostBridges: this.settleHostBridges(), bridges: bridges.sort(compareBridges) };
    host.sources = [...this.sources];

    const order = new Map<string, number>();
    this.sources.forEach((s, i) => order.set(s.file, i));
    // A file under a source directory ranks with that directory; computed once per file.
    const ranks = new Map<string, number>();
    const rank = (file: string): number => {
      let r = ranks.get(file);
      if (r === undefined) {
        r = order.get(file) ?? [...order.keys()].findIndex((f) => file.startsWith(f));
        ranks.set(file, r);
      }
      return r;
    };
    host.warnings = this.warnings
      .map((w, i) => ({ w, i, rank: rank(w.file) }))
      .sort((a, b) => a.rank - b.rank || compareText(a.w.file, b.w.file) || a.w.line - b.w.line || a.i - b.i)
      .map(({ w }) => w);
    return host;
  }

  /** Warnings for what answers will assume because no source said it (see assumptions.ts). */
  private recordAssumptions(): void {
    const first = this.sources[0]?.file ?? '';
    if (!this.platform && !this.iommu) {
      this.warnings.push(noIommuFactsWarning(first, this.sources.map((s) => s.file)));
      return;
    }
    if (!this.platform || this.iommu) return;
    const message = this.platformWidthWeak ? weakWidthMessage(this.platform) : unknownWidthMessage(this.platform);
    if (message) this.assume(this.platform.source, message);
  }

  /** Bus-only bridges folded into BDF bridges; bridges without bus numbers reported. */
  private settleBridges(): PciBridge[] {
    const records = [...this.bridges.values()];
    // The first BDF bridge leading to each bus, for folding in bridges known only by that bus.
    const bySecondary = new Map<string, BridgeRecord>();
    for (const b of records) {
      if (b.id.startsWith('bus ') || !b.secondaryBus) continue;
      const key = `${b.segment}:${b.secondaryBus.value}`;
      if (!bySecondary.has(key)) bySecondary.set(key, b);
    }
    const out: PciBridge[] = [];
    for (const record of records.filter((r) => r.id.startsWith('bus '))) {
      const secondary = record.secondaryBus!.value;
      const owner = bySecondary.get(`${record.segment}:${secondary}`);
      if (!owner) continue;
      for (const w of record.windows) this.addBridgeWindow(owner, { ...w, source: { ...w.source, port: owner.id } });
      owner.primaryBus ??= record.primaryBus;
      this.bridges.delete(record.id);
    }
    for (const record of this.bridges.values()) {
      if (!record.secondaryBus) {
        for (const w of record.windows) {
          this.warnAt(
            w.source,
            `${w.prefetchable ? 'prefetchable ' : ''}window ${formatRange(w)} of bridge ${record.id} not kept: no source gives the bridge's bus numbers`,
          );
        }
        if (record.acs) this.warnAt(record.acs.source, `ACS bits of bridge ${record.id} not kept: no source gives the bridge's bus numbers`);
        continue;
      }
      const secondary = record.secondaryBus.value;
      let source = record.source;
      if (!record.subordinateBus) {
        const note = `subordinate bus not in the sources; taken to be the secondary bus ${hex2(secondary)}`;
        source = withNote(source, note);
        this.assume(record.source, `bridge ${record.id}: ${note} (devices on buses below it are not seen behind it)`);
      }
      const bridge: PciBridge = {
        id: record.id,
        role: record.role.value,
        segment: record.segment,
        secondaryBus: secondary,
        subordinateBus: record.subordinateBus?.value ?? secondary,
        windows: sortRanges(record.windows),
        bars: [],
        source,
      };
      const primary = record.primaryBus ?? busOf(record.id)?.bus;
      if (primary !== undefined) bridge.primaryBus = primary;
      if (record.acs) bridge.acs = record.acs.value;
      out.push(bridge);
    }
    return out;
  }

  /** Host bridges sorted, with a bus range inferred where no source gives one. */
  private settleHostBridges(): HostBridge[] {
    const records = [...this.hostBridges.values()].sort((a, b) => a.segment - b.segment || a.busFirst - b.busFirst);
    return records.map((r, i) => {
      let busLast = r.busLast?.value;
      let source = r.source;
      if (busLast === undefined) {
        const next = records[i + 1];
        busLast = next && next.segment === r.segment ? next.busFirst - 1 : 0xff;
        const note = `bus range not in the sources; assumed to reach bus ${hex2(busLast)}, below the next root bus`;
        source = withNote(source, note);
        this.assume(r.source, `host bridge ${formatBus(r.segment, r.busFirst)}: ${note}`);
      }
      return {
        id: formatBus(r.segment, r.busFirst),
        segment: r.segment,
        busFirst: r.busFirst,
        busLast,
        windows: sortRanges(r.windows),
        dmaRanges: [],
        source,
      };
    });
  }
}

/** Id of a bridge known only by the bus it leads to. */
function busBridgeId(segment: number, bus: number): string {
  return `bus ${formatBus(segment, bus)}`;
}

/** The provenance of a record first mentioned at `source`: same place, its own name. */
function derived(source: Provenance, what: string, extra: Partial<Provenance>): Provenance {
  return provenance(what, source.file, source.line, { path: source.path, ...extra });
}

/** Where each region of a list is, by range and type: de-duplication without a scan per region. */
const regionIndex = new WeakMap<ReservedRegion[], Map<string, number>>();

function addRegion(list: ReservedRegion[], region: ReservedRegion): void {
  let index = regionIndex.get(list);
  if (!index) {
    index = new Map(list.map((r, i) => [`${rangeKey(r)} ${r.type}`, i]));
    regionIndex.set(list, index);
  }
  const key = `${rangeKey(region)} ${region.type}`;
  const i = index.get(key);
  if (i === undefined) {
    index.set(key, list.length);
    list.push(region);
  } else if (region.source.note) list[i] = { ...list[i], source: withNote(list[i].source, region.source.note) };
}

/** A map key for a range. */
function rangeKey(r: IovaRange): string {
  return `${r.start.toString(16)}-${r.last.toString(16)}`;
}

/** A key per slot of a window or BAR list: the same key means the same fact (or a conflict). */
function keyedIndex<T>(store: WeakMap<T[], Map<string, number>>, list: T[], key: (item: T) => string): Map<string, number> {
  let index = store.get(list);
  if (!index) {
    index = new Map();
    list.forEach((item, i) => {
      const k = key(item);
      if (!index!.has(k)) index!.set(k, i);
    });
    store.set(list, index);
  }
  return index;
}

const barIndex = new WeakMap<Bar[], Map<string, number>>();
const windowIndex = new WeakMap<BridgeWindow[], Map<string, number>>();
const hostWindowIndex = new WeakMap<HostBridgeWindow[], Map<string, number>>();

/** Numbered BARs are one slot per number; unnumbered ones (from /proc/iomem) one per range. */
function barKey(bar: Bar): string {
  return bar.bar !== undefined ? `#${bar.bar}` : `@${rangeKey(bar)}`;
}

function mergeBar(old: Bar, bar: Bar): Bar {
  const out: Bar = { ...old };
  if (out.prefetchable === undefined && bar.prefetchable !== undefined) out.prefetchable = bar.prefetchable;
  if (out.is64 === undefined && bar.is64 !== undefined) out.is64 = bar.is64;
  return out;
}

/**
 * Numbered BARs plus those unnumbered ones (from /proc/iomem) that no numbered BAR covers.
 * Twins share a range, so only BARs of the same range are compared (a handful at most: one
 * per BAR number and one unnumbered).
 */
function dedupeBars(bars: Bar[]): Bar[] {
  const out: Bar[] = [];
  const byRange = new Map<string, number[]>();
  for (const bar of bars) {
    const key = rangeKey(bar);
    const candidates = byRange.get(key) ?? [];
    const twin = candidates.find((i) => out[i].bar === undefined || bar.bar === undefined || out[i].bar === bar.bar);
    if (twin === undefined) {
      candidates.push(out.length);
      byRange.set(key, candidates);
      out.push(bar);
    } else if (out[twin].bar === undefined && bar.bar !== undefined) out[twin] = mergeBar(bar, out[twin]);
  }
  return out;
}

function sortRanges<T extends IovaRange>(list: T[]): T[] {
  return [...list].sort(compareRanges);
}

function sortRegions(list: ReservedRegion[]): ReservedRegion[] {
  return [...list].sort((a, b) => compareRanges(a, b) || compareText(a.type, b.type));
}

function compareBridges(a: PciBridge, b: PciBridge): number {
  return a.segment - b.segment || a.secondaryBus - b.secondaryBus || compareText(a.id, b.id);
}

function sameGeometry(a: IommuGeometry, b: IommuGeometry): boolean {
  return (
    a.pageSizes === b.pageSizes &&
    a.addressWidth === b.addressWidth &&
    a.apertures.length === b.apertures.length &&
    a.apertures.every((r, i) => sameRange(r, b.apertures[i]))
  );
}

function describeGeometry(g: IommuGeometry): string {
  return `${g.apertures.map(formatRange).join(', ')} pages ${hex(g.pageSizes)}`;
}

function where(p: Provenance): string {
  return describePlace(p) ?? describeProvenance(p);
}
