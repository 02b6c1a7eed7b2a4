/**
 * The address map as plain text, for a bug report on a mailing list: every aperture window,
 * hole, usable range, existing mapping and placement in address order, one entry per line with
 * its provenance wrapped underneath, things a conflict or violation names marked `!`, then the
 * conflicts and repairs. Deterministic, at most {@link TXT_COLUMNS} columns, and every string
 * from input has its control characters escaped.
 */
import { escapeControls } from '../model/escape.js';
import { formatSize, hexGrouped } from '../model/address.js';
import { compareRanges, type IovaRange, sizeOf } from '../model/range.js';
import type { Scene } from './scene.js';
import { truncate, wrap } from './text.js';

/** Line width of the text map: what a mail client shows without breaking lines. */
export const TXT_COLUMNS = 100;

interface Entry extends IovaRange {
  /** Sort order at the same start: windows, holes, usable, existing, placements. */
  order: number;
  conflict: boolean;
  label: string;
  details: string[];
}

const DETAIL_INDENT = '        ';

/** Render a scene as a text address map. */
export function renderTxt(scene: Scene): string {
  const entries: Entry[] = [
    ...scene.windows.map((w) => ({ ...range(w), order: 0, conflict: false, label: 'aperture window', details: [w.provenance] })),
    ...scene.holes.map((h) => ({
      ...range(h),
      order: 1,
      conflict: h.conflict,
      label: `hole ${h.kind} ${h.type}`,
      details: [`${h.provenance}${h.enforced ? '' : '  [not enforced by the kernel]'}`],
    })),
    ...scene.usable.map((u) => ({ ...range(u), order: 2, conflict: false, label: 'usable', details: [] })),
    ...scene.existing.map((m) => ({ ...range(m), order: 3, conflict: m.conflict, label: `existing mapping ${m.name}`, details: [m.provenance] })),
    ...scene.placements.map((p) => ({
      ...range(p),
      order: 4,
      conflict: p.conflict,
      label: `${p.state === 'placed' ? 'placement' : p.state === 'suggested' ? 'suggested (not placed)' : 'wanted (not placed)'} ${p.name}`,
      details: p.details,
    })),
  ].sort((a, b) => compareRanges(a, b) || a.order - b.order);

  const width = TXT_COLUMNS;
  const lines: string[] = [];
  const para = (text: string, indent = '') => {
    for (const l of wrap(escapeControls(text), width - indent.length)) lines.push(indent + l);
  };
  para(scene.title);
  for (const f of scene.facts) para(f, '  ');
  para(`Answer: ${scene.summary}`);
  lines.push('', 'Address map (lowest first; "!" marks what a conflict or violation names):');
  const head = `  ${'start'.padEnd(21)}  ${'last'.padEnd(21)}  ${'size'.padEnd(12)}  what`;
  lines.push(head);
  for (const e of entries) {
    const row = `${e.conflict ? '!' : ' '} ${hexGrouped(e.start).padEnd(21)}  ${hexGrouped(e.last).padEnd(21)}  ${formatSize(sizeOf(e)).padEnd(12)}  `;
    lines.push(row + truncate(escapeControls(e.label), width - row.length));
    for (const d of e.details) para(d, DETAIL_INDENT);
  }
  if (scene.conflicts.length > 0) {
    lines.push('', `Conflicts and violations (${scene.conflicts.length}):`);
    for (const c of scene.conflicts) {
      para(`${c.label}: ${c.message}`, '  ');
      for (const d of c.details) para(`- ${d}`, '    ');
    }
  }
  if (scene.repairs.length > 0) {
    lines.push('', `${scene.repairsHeading ?? 'Repairs (each solved again and works)'}:`);
    scene.repairs.forEach((r, i) => para(`${i + 1}. ${r}`, '  '));
  }
  return `${lines.map((l) => l.trimEnd()).join('\n')}\n`;
}

function range(r: IovaRange): IovaRange {
  return { start: r.start, last: r.last };
}
