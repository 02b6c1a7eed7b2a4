/**
 * Where a fact came from. Every window, hole and constraint carries one, because an
 * explanation is only as good as its ability to say "line 2 of group 12's reserved_regions"
 * or "BAR2 of peer 0000:03:00.1 behind switch port 0000:02:08.0".
 */
export interface Provenance {
  /** What the fact is, in a few words: "RMRR", "HyperTransport hole", "aperture", "BAR2". */
  what: string;
  /** File the fact was read from, as the user named it. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** JSON path inside a host or spec file. */
  path?: string;
  /** IOMMU group number. */
  group?: number;
  /** Device the fact belongs to (PCI BDF or platform name). */
  device?: string;
  /** Platform profile that supplied the fact (intel-vtd, amd-vi, ...). */
  profile?: string;
  /** Peer device whose BAR or window it is (peer-to-peer holes). */
  peer?: string;
  /** Switch or bridge port involved (peer-to-peer holes, bridge windows). */
  port?: string;
  /** Further detail that does not fit the fields above. */
  note?: string;
}

/**
 * One readable phrase: `HyperTransport hole (profile amd-vi)`,
 * `msi region of IOMMU group 12 (reserved_regions line 2)`, ...
 */
export function describeProvenance(p: Provenance): string {
  let text = p.what;
  if (p.peer) {
    // A peer-to-peer fact: whose address it is, and whose DMA would be routed there.
    text += ` of peer ${p.peer}`;
    if (p.device) text += `, reached from ${p.device}`;
    if (p.port) text += `${p.device ? '' : ','} through port ${p.port}`;
  } else {
    const owner: string[] = [];
    if (p.device) owner.push(`device ${p.device}`);
    if (p.group !== undefined) owner.push(`IOMMU group ${p.group}`);
    if (p.port) owner.push(`port ${p.port}`);
    if (owner.length > 0) text += ` of ${owner.join(', ')}`;
  }
  const where: string[] = [];
  if (p.profile) where.push(`profile ${p.profile}`);
  const place = describePlace(p);
  if (place) where.push(place);
  if (p.path) where.push(p.path);
  if (p.note) where.push(p.note);
  if (where.length > 0) text += ` (${where.join('; ')})`;
  return text;
}

/** `file:line`, `file`, `line N`, or undefined: where in a source the fact was read. */
export function describePlace(p: Provenance): string | undefined {
  if (p.file) return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  return p.line !== undefined ? `line ${p.line}` : undefined;
}

/** A copy of `p` with the given fields filled in where `p` has none. */
export function withDefaults(p: Provenance, defaults: Partial<Provenance>): Provenance {
  const out: Provenance = { ...p };
  for (const [key, value] of Object.entries(defaults) as Array<[keyof Provenance, unknown]>) {
    if (out[key] === undefined && value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
