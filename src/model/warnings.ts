/**
 * Warnings: facts an answer rests on that were skipped or assumed — a line an importer could
 * not read, a geometry taken from a profile because the host facts do not give it. They are
 * recorded on host facts (`HostFacts.warnings`) and carried, with the assumptions an answer
 * adds, into every answer that used those facts. This module is the one value type and the one
 * place that renders it (text line and JSON).
 */
import type { AddressSpace } from './address-space.js';
import { escapeControls } from './escape.js';
import type { HostFacts, IommuGeometry, ImportWarning } from './host.js';
import { hostGeometry } from './address-space.js';
import { NO_IOMMU_FACTS, unknownWidthMessage } from './import/assumptions.js';

/**
 * A warning: where (file and 1-based line; line 0 for a whole file or an assumption not tied to
 * a line), what, and the input text concerned ('' when there is none). `host` names the host
 * whose facts it is about, for answers over several hosts.
 */
export type Warning = ImportWarning & { host?: string };

/** Assumptions a space's answer makes about its host, plus the warnings recorded on the host. */
export function spaceWarnings(space: AddressSpace): Warning[] {
  return factWarnings(space.host, [...new Set(space.attachments.map((a) => a.geometry))]);
}

/** The host's recorded warnings, then an assumption warning for each geometry not read from the host. */
export function factWarnings(host: HostFacts, geometries: readonly IommuGeometry[] = hostGeometries(host)): Warning[] {
  const out: Warning[] = [...host.warnings];
  for (const g of geometries) {
    const assumed = assumption(host, g);
    if (assumed) out.push(assumed);
  }
  return dedupe(out);
}

/** Every geometry a host's devices may use: the host's (or its profile's, or the default) and each device's own. */
function hostGeometries(host: HostFacts): IommuGeometry[] {
  return [...new Set([hostGeometry(host), ...host.devices.flatMap((d) => (d.iommu ? [d.iommu] : []))])];
}

/** Why a geometry is an assumption, or undefined when the host facts state it. */
function assumption(host: HostFacts, g: IommuGeometry): Warning | undefined {
  const where = { file: g.source.file ?? host.sources[0]?.file ?? '', line: g.source.line ?? 0, text: '', kind: 'assumption' as const };
  // An importer that recorded the same assumption has said it already, with its line.
  const recorded = (message: string | undefined) => host.warnings.some((w) => w.kind === 'assumption' && message !== undefined && w.message.startsWith(message));
  if (g.source.what === 'default geometry' && g.source.profile === undefined) {
    if (recorded(NO_IOMMU_FACTS)) return undefined;
    return { ...where, message: `host ${host.name} has no IOMMU facts and no platform profile: assumed a whole 64-bit aperture with 4 KiB pages` };
  }
  const platform = host.platform;
  if (!platform || g.source.profile !== platform.profile) return undefined;
  const unstated: string[] = [];
  switch (platform.profile) {
    case 'intel-vtd':
    case 'amd-vi':
    case 'arm-smmuv3':
      if (platform.addressWidth === undefined && !recorded(unknownWidthMessage(platform))) unstated.push(`the address width (assumed ${g.addressWidth ?? '?'} bits)`);
      break;
    case 'spapr':
      if (platform.window64Size === undefined) unstated.push('the 64-bit window size (assumed the largest its base allows)');
      break;
    case 'virtio-iommu':
      if (platform.inputRange === undefined) unstated.push('the input range (assumed the whole 64-bit space)');
      break;
  }
  if (unstated.length === 0) return undefined;
  return { ...where, message: `the IOMMU geometry comes from the ${platform.profile} profile, which does not know ${unstated.join(' or ')}` };
}

/** The same warnings tagged with the host they are about. */
export function forHost(warnings: readonly Warning[], host: string): Warning[] {
  return warnings.map((w) => ({ ...w, host }));
}

/** Each warning once (the same host, file, line and message). */
export function dedupe(warnings: readonly Warning[]): Warning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = `${w.host ?? ''}\u0000${w.file}\u0000${w.line}\u0000${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `file:line` (or `file` for line 0, or '' when there is no file). */
export function warningPlace(w: Warning): string {
  if (!w.file) return w.line > 0 ? `line ${w.line}` : '';
  return w.line > 0 ? `${w.file}:${w.line}` : w.file;
}

/** The one line a warning is shown as: `warning: [host h: ]file:line: message: "text"`, escaped. */
export function formatWarning(w: Warning): string {
  const place = warningPlace(w);
  const text = w.text ? `: "${w.text.length > 120 ? `${w.text.slice(0, 117)}...` : w.text}"` : '';
  return escapeControls(`warning: ${w.host ? `host ${w.host}: ` : ''}${place ? `${place}: ` : ''}${w.message}${text}`);
}

/** The JSON form: the fields, and `source` as `file:line`. */
export function warningJson(w: Warning) {
  return { file: w.file, line: w.line, message: w.message, text: w.text, ...(w.kind !== undefined ? { kind: w.kind } : {}), ...(w.host !== undefined ? { host: w.host } : {}), source: warningPlace(w) };
}
