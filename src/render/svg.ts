/**
 * A scene as a self-contained SVG address map: tracks for the aperture windows, the holes
 * (stacked in lanes where they overlap), the usable ranges, existing mappings, placements and
 * conflicts, over one segmented axis (see `scale.ts`) with hex labels at every boundary, then a
 * legend, the conflict sentences and a footer that says the scale is not linear.
 *
 * Output is deterministic (fixed order, rounded coordinates, no ids but the one hatch pattern)
 * and fetches nothing. Every hole, placement, mapping and conflict mark is a `<g>` carrying
 * `data-*` attributes and a `<title>` with its full provenance.
 */
import { formatSize, hex, hexGrouped } from '../model/address.js';
import { describeRange, type IovaRange, sizeOf } from '../model/range.js';
import { assignLanes, laneCount } from './lanes.js';
import { COLOURS, HOLE_CATEGORIES, HOLE_SWATCHES } from './palette.js';
import { SegmentedScale } from './scale.js';
import type { Scene } from './scene.js';
import { charsFitting, escapeXml, FONT_FAMILY, px, textWidth, truncate, wrap } from './text.js';

export interface RenderOptions {
  /** Width of the picture in pixels (default 1280). */
  width?: number;
  /** Smallest width of an axis segment in pixels (default 14). */
  minSegment?: number;
}

const MARGIN = 16;
const LABEL_COLUMN = 96;
const LANE = 18;
const LANE_GAP = 3;
const TRACK_PAD = 6;
const ITEM_FONT = 11;
const AXIS_FONT = 10;
const HATCH = 'iova-hatch';
const MAX_WARNING_LINES = 8;

/** The footer every picture carries: the axis is not to scale. */
export const SCALE_NOTE =
  'scale: segmented, not linear. The axis is cut at every boundary of a window, hole, range, mapping or placement; ' +
  'each segment is drawn with a width that grows with log2 of its size (at least a minimum width), and linearly inside. ' +
  'Each label is the address where a segment starts (a range ends just before the next label).';

interface Item {
  range: IovaRange;
  /** Stable reference (`hole-3`) that the HTML tables point at. */
  ref?: string;
  /** `data-*` attributes, in output order. */
  data: Array<[string, string]>;
  tooltip: string[];
  fill: string;
  ink: string;
  stroke: string;
  dashed?: boolean;
  hatch?: boolean;
  opacity?: number;
  label?: string;
  /** Whether the label may be drawn beside the bar when it does not fit inside. */
  labelBeside?: boolean;
}

interface Track {
  name: string;
  items: Item[];
}

/** The scene as an SVG document (a string starting with `<svg`). */
export function renderSvg(scene: Scene, options: RenderOptions = {}): string {
  const width = options.width ?? 1280;
  const axisX = MARGIN + LABEL_COLUMN;
  const axisWidth = width - axisX - MARGIN;
  const scale = SegmentedScale.build(boundariesOf(scene), { width: axisWidth, minSegment: options.minSegment ?? 14 });
  const out: string[] = [];
  const textChars = charsFitting(width - 2 * MARGIN, ITEM_FONT);

  // Header.
  let y = MARGIN + 16;
  const header: string[] = [];
  header.push(text(MARGIN, y, truncate(scene.title, charsFitting(width - 2 * MARGIN, 16)), { size: 16, weight: 'bold' }));
  for (const fact of scene.facts) {
    y += 16;
    header.push(text(MARGIN, y, truncate(fact, textChars), { size: ITEM_FONT, fill: COLOURS.muted }));
  }
  // Warnings: the answer rests on facts skipped or assumed; a few lines, then a count.
  const shown = scene.warnings.length > MAX_WARNING_LINES ? MAX_WARNING_LINES - 1 : scene.warnings.length;
  const warningLines = [...scene.warnings.slice(0, shown), ...(shown < scene.warnings.length ? [`… and ${scene.warnings.length - shown} more warnings`] : [])];
  for (const line of warningLines) {
    y += 16;
    header.push(text(MARGIN, y, truncate(line, textChars), { size: ITEM_FONT, fill: COLOURS.conflict, cls: 'warning' }));
  }
  y += 18;
  const verdictColour = scene.verdict === 'unsat' || scene.verdict === 'rejected' ? COLOURS.conflict : scene.verdict === 'unknown' ? COLOURS.muted : COLOURS.usable;
  header.push(text(MARGIN, y, truncate(scene.summary, charsFitting(width - 2 * MARGIN, 12)), { size: 12, weight: 'bold', fill: verdictColour, cls: 'summary' }));
  y += 14;

  // Tracks, each with its lanes.
  const tracksTop = y;
  const body: string[] = [];
  const labels: string[] = [];
  for (const track of tracksOf(scene)) {
    const spans = track.items.map((item) => spanOf(item, scale, axisWidth));
    const lanes = assignLanes(spans.map((s) => s.span));
    const count = laneCount(lanes);
    const height = 2 * TRACK_PAD + count * LANE + (count - 1) * LANE_GAP;
    labels.push(text(MARGIN, y + TRACK_PAD + LANE / 2 + 4, track.name, { size: ITEM_FONT, weight: 'bold' }));
    labels.push(`<line x1="${px(MARGIN)}" y1="${px(y + height)}" x2="${px(width - MARGIN)}" y2="${px(y + height)}" stroke="${COLOURS.grid}"/>`);
    track.items.forEach((item, i) => {
      body.push(drawItem(item, axisX, y + TRACK_PAD + lanes[i] * (LANE + LANE_GAP), spans[i]));
    });
    y += height;
  }
  const tracksBottom = y;

  // Background: alternate stripes per segment, a grid line at every boundary.
  const background: string[] = [];
  scale.segments.forEach((s, i) => {
    if (i % 2 === 1) background.push(`<rect x="${px(axisX + s.x)}" y="${px(tracksTop)}" width="${px(s.width)}" height="${px(tracksBottom - tracksTop)}" fill="${COLOURS.stripe}"/>`);
  });
  for (const b of scale.boundaries) {
    const x = axisX + scale.x(b);
    background.push(`<line x1="${px(x)}" y1="${px(tracksTop)}" x2="${px(x)}" y2="${px(tracksBottom)}" stroke="${COLOURS.grid}"/>`);
  }

  // Axis: one line piece per segment with a break mark between pieces, segment sizes, and
  // the address of every boundary.
  const axis: string[] = [];
  const axisY = tracksBottom + 8;
  for (const s of scale.segments) {
    const x0 = axisX + s.x;
    const inset = Math.min(2.5, s.width / 4);
    axis.push(`<line x1="${px(x0 + inset)}" y1="${px(axisY)}" x2="${px(x0 + s.width - inset)}" y2="${px(axisY)}" stroke="${COLOURS.text}"/>`);
    const size = formatSize(s.end - s.start);
    if (textWidth(size, 9) + 6 <= s.width) axis.push(text(x0 + s.width / 2, axisY + 13, size, { size: 9, fill: COLOURS.muted, anchor: 'middle' }));
  }
  scale.boundaries.forEach((b, i) => {
    const x = axisX + scale.x(b);
    if (i > 0 && i < scale.boundaries.length - 1) {
      axis.push(`<path d="M${px(x - 3.5)} ${px(axisY + 4)}L${px(x - 0.5)} ${px(axisY - 4)}M${px(x + 0.5)} ${px(axisY + 4)}L${px(x + 3.5)} ${px(axisY - 4)}" stroke="${COLOURS.text}" fill="none" class="break"/>`);
    } else {
      axis.push(`<line x1="${px(x)}" y1="${px(axisY - 4)}" x2="${px(x)}" y2="${px(axisY + 4)}" stroke="${COLOURS.text}"/>`);
    }
  });
  const labelTop = axisY + 19;
  let lastLabel = -Infinity;
  let labelHeight = 0;
  for (const b of scale.boundaries) {
    const x = axisX + scale.x(b);
    // Labels closer than a line apart would overprint (only when segments are below the minimum).
    if (x - lastLabel < AXIS_FONT) continue;
    lastLabel = x;
    const label = hexGrouped(b);
    labelHeight = Math.max(labelHeight, textWidth(label, AXIS_FONT));
    axis.push(`<text x="${px(x + AXIS_FONT * 0.35)}" y="${px(labelTop)}" font-size="${AXIS_FONT}" text-anchor="end" transform="rotate(-90 ${px(x + AXIS_FONT * 0.35)} ${px(labelTop)})" fill="${COLOURS.text}" class="address">${escapeXml(label)}</text>`);
  }
  y = labelTop + labelHeight + 18;

  // Legend.
  const legend: string[] = [];
  let lx = MARGIN;
  for (const entry of legendOf(scene)) {
    const w = 18 + textWidth(entry.label, ITEM_FONT) + 18;
    if (lx + w > width - MARGIN && lx > MARGIN) {
      lx = MARGIN;
      y += 18;
    }
    legend.push(
      `<g class="legend-entry" data-legend="${escapeXml(entry.key)}"><rect x="${px(lx)}" y="${px(y - 10)}" width="12" height="12" fill="${entry.fill}" stroke="${entry.stroke}"${entry.dashed ? ' stroke-dasharray="3 2"' : ''}${entry.opacity !== undefined ? ` fill-opacity="${entry.opacity}"` : ''}/>` +
        (entry.hatch ? `<rect x="${px(lx)}" y="${px(y - 10)}" width="12" height="12" fill="url(#${HATCH})"/>` : '') +
        text(lx + 18, y, entry.label, { size: ITEM_FONT }) +
        '</g>',
    );
    lx += w;
  }
  y += 24;

  // Conflicts and violations, in words.
  const notes: string[] = [];
  for (const c of scene.conflicts) {
    for (const line of wrap(`${c.label}: ${c.message}`, textChars)) {
      notes.push(text(MARGIN, y, line, { size: ITEM_FONT, fill: COLOURS.conflict, weight: 'bold' }));
      y += 15;
    }
    for (const d of c.details) {
      for (const [i, line] of wrap(d, textChars - 4).entries()) {
        notes.push(text(MARGIN + 12, y, `${i === 0 ? '- ' : '  '}${line}`, { size: ITEM_FONT }));
        y += 15;
      }
    }
    y += 6;
  }
  if (scene.repairs.length > 0) {
    notes.push(text(MARGIN, y, `${scene.repairsHeading ?? 'Repairs (each was solved again and works)'}:`, { size: ITEM_FONT, weight: 'bold' }));
    y += 15;
    scene.repairs.forEach((r, n) => {
      for (const [i, line] of wrap(r, textChars - 8).entries()) {
        notes.push(text(MARGIN + 12, y, `${i === 0 ? `${n + 1}.` : '  '} ${line}`, { size: ITEM_FONT }));
        y += 15;
      }
    });
    y += 6;
  }

  // Footer.
  const footer: string[] = [];
  for (const line of wrap(SCALE_NOTE, charsFitting(width - 2 * MARGIN, 10))) {
    footer.push(text(MARGIN, y, line, { size: 10, fill: COLOURS.muted, cls: 'scale-note' }));
    y += 13;
  }
  const height = Math.ceil(y + MARGIN - 8);

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}" role="img" class="iova-map">`,
    `<title>${escapeXml(`${scene.title}: ${scene.summary}`)}</title>`,
    `<style>.item{cursor:default;outline:none}.item:hover>.bar,.item:focus>.bar{stroke:${COLOURS.text};stroke-width:2}</style>`,
    `<defs><pattern id="${HATCH}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2.5" height="6" fill="${COLOURS.conflict}" fill-opacity="0.55"/></pattern></defs>`,
    `<rect width="${width}" height="${height}" fill="${COLOURS.background}"/>`,
    '<g class="header">',
    ...header,
    '</g>',
    '<g class="background">',
    ...background,
    '</g>',
    '<g class="tracks">',
    ...labels,
    ...body,
    '</g>',
    '<g class="axis">',
    ...axis,
    '</g>',
    '<g class="legend">',
    ...legend,
    '</g>',
    '<g class="notes">',
    ...notes,
    '</g>',
    '<g class="footer">',
    ...footer,
    '</g>',
    '</svg>',
  );
  return out.join('\n');
}

/** Every address where something starts or ends (exclusive), for the axis breaks. */
export function boundariesOf(scene: Scene): bigint[] {
  const out: bigint[] = [];
  const add = (r: IovaRange) => out.push(r.start, r.last + 1n);
  scene.windows.forEach(add);
  scene.holes.forEach(add);
  scene.usable.forEach(add);
  scene.placements.forEach(add);
  scene.existing.forEach(add);
  for (const c of scene.conflicts) c.ranges.forEach(add);
  return out;
}

function tracksOf(scene: Scene): Track[] {
  const tracks: Track[] = [];
  tracks.push({
    name: 'windows',
    items: scene.windows.map((w) => ({
      range: w,
      data: [['kind', 'window'], ...rangeData(w)],
      tooltip: ['aperture window', describeRange(w), w.provenance],
      fill: COLOURS.window,
      ink: COLOURS.text,
      stroke: COLOURS.windowStroke,
      label: `window ${formatSize(sizeOf(w))}`,
    })),
  });
  tracks.push({
    name: 'holes',
    items: scene.holes.map((h, i) => {
      const swatch = HOLE_SWATCHES[h.category];
      return {
        range: h,
        ref: `hole-${i}`,
        data: [['kind', 'hole'], ['hole-kind', h.kind], ['type', h.type], ...rangeData(h), ['enforced', String(h.enforced)], ['conflict', String(h.conflict)]],
        tooltip: [
          `hole: ${h.kind}, ${h.type}`,
          describeRange(h),
          h.provenance,
          h.enforced ? 'enforced by the kernel' : 'not enforced by the kernel: a mapping there is accepted and then misbehaves',
          ...(h.conflict ? ['named by a conflict'] : []),
        ],
        fill: swatch.fill,
        ink: swatch.ink,
        stroke: h.conflict ? COLOURS.conflict : '#ffffff',
        dashed: !h.enforced,
        opacity: h.enforced ? undefined : 0.6,
        hatch: h.conflict,
        label: h.type,
      };
    }),
  });
  tracks.push({
    name: 'usable',
    items: scene.usable.map((u) => ({
      range: u,
      data: [['kind', 'usable'], ...rangeData(u)],
      tooltip: ['usable', describeRange(u)],
      fill: COLOURS.usable,
      ink: '#ffffff',
      stroke: '#ffffff',
      label: formatSize(sizeOf(u)),
    })),
  });
  if (scene.existing.length > 0) {
    tracks.push({
      name: 'existing',
      items: scene.existing.map((m, i) => ({
        range: m,
        ref: `existing-${i}`,
        data: [['kind', 'existing'], ['name', m.name], ...rangeData(m), ['conflict', String(m.conflict)]],
        tooltip: [`existing mapping ${m.name}`, describeRange(m), m.provenance, ...(m.conflict ? ['named by a conflict'] : [])],
        fill: COLOURS.existing,
        ink: '#ffffff',
        stroke: m.conflict ? COLOURS.conflict : '#ffffff',
        hatch: m.conflict,
        label: `${m.name} (${formatSize(sizeOf(m))})`,
        labelBeside: true,
      })),
    });
  }
  if (scene.placements.length > 0 || scene.verdict !== 'space') {
    tracks.push({
      name: 'placements',
      items: scene.placements.map((p, i) => ({
        range: p,
        ref: `placement-${i}`,
        data: [['kind', 'placement'], ['name', p.name], ...rangeData(p), ['size', hex(p.size)], ['state', p.state], ['conflict', String(p.conflict)]],
        tooltip: [`${p.state === 'wanted' ? 'wanted placement' : p.state === 'suggested' ? 'suggested placement' : 'placement'} ${p.name}`, describeRange(p), ...p.details, ...(p.conflict ? ['named by a conflict'] : [])],
        fill: p.state === 'placed' ? COLOURS.placement : p.conflict ? COLOURS.conflictFill : COLOURS.background,
        ink: p.state === 'placed' ? COLOURS.placementInk : COLOURS.text,
        stroke: p.conflict ? COLOURS.conflict : p.state === 'placed' ? '#ffffff' : COLOURS.placement,
        dashed: p.state !== 'placed',
        hatch: p.conflict && p.state === 'placed',
        label: `${p.name} (${formatSize(p.size)})`,
        labelBeside: true,
      })),
    });
  }
  const marks = conflictMarks(scene);
  if (marks.length > 0) {
    tracks.push({
      name: 'conflicts',
      items: marks.map((m) => ({
        range: m.range,
        data: [['kind', 'conflict'], ...rangeData(m.range), ['conflict', 'true'], ['conflicts', m.labels.join(',')]],
        tooltip: [`named by ${m.labels.join(', ')}`, describeRange(m.range)],
        fill: COLOURS.conflictFill,
        ink: COLOURS.conflict,
        stroke: COLOURS.conflict,
        hatch: true,
        label: m.marks.join(' '),
        labelBeside: true,
      })),
    });
  }
  return tracks;
}

/** One mark per distinct range, listing every conflict that names it (labels, and their short marks). */
function conflictMarks(scene: Scene): Array<{ range: IovaRange; labels: string[]; marks: string[] }> {
  const byRange = new Map<string, { range: IovaRange; labels: string[]; marks: string[] }>();
  for (const c of scene.conflicts) {
    for (const r of c.ranges) {
      const key = `${r.start}:${r.last}`;
      const mark = byRange.get(key) ?? { range: r, labels: [], marks: [] };
      if (!mark.labels.includes(c.label)) {
        mark.labels.push(c.label);
        mark.marks.push(c.mark);
      }
      byRange.set(key, mark);
    }
  }
  return [...byRange.values()].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : a.range.last < b.range.last ? -1 : a.range.last > b.range.last ? 1 : 0));
}

function rangeData(r: IovaRange): Array<[string, string]> {
  return [
    ['start', hex(r.start)],
    ['last', hex(r.last)],
  ];
}

interface Placed {
  span: { from: number; to: number };
  x: number;
  width: number;
  /** Where the label goes: inside the bar, beside it (left or right), or nowhere. */
  label?: { x: number; anchor: 'start' | 'end'; inside: boolean; text: string };
}

/** Where an item and its label are drawn along the axis (relative to the axis start). */
function spanOf(item: Item, scale: SegmentedScale, axisWidth: number): Placed {
  const { x, width } = scale.extent(item.range);
  const placed: Placed = { span: { from: x, to: x + width }, x, width };
  if (!item.label) return placed;
  const w = textWidth(item.label, ITEM_FONT);
  if (w + 6 <= width) {
    placed.label = { x: x + 3, anchor: 'start', inside: true, text: item.label };
  } else if (item.labelBeside) {
    if (x + width + 4 + w <= axisWidth) {
      placed.label = { x: x + width + 4, anchor: 'start', inside: false, text: item.label };
      placed.span = { from: x, to: x + width + 4 + w + 4 };
    } else {
      placed.label = { x: x - 4, anchor: 'end', inside: false, text: item.label };
      placed.span = { from: x - 4 - w - 4, to: x + width };
    }
  }
  return placed;
}

function drawItem(item: Item, axisX: number, top: number, placed: Placed): string {
  const data: Array<[string, string]> = item.ref ? [...item.data, ['ref', item.ref]] : item.data;
  const attrs = data.map(([k, v]) => ` data-${k}="${escapeXml(v)}"`).join('');
  const x = axisX + placed.x;
  const rect =
    `<rect class="bar" x="${px(x)}" y="${px(top)}" width="${px(placed.width)}" height="${LANE}" fill="${item.fill}" stroke="${item.stroke}"` +
    (item.stroke === COLOURS.conflict ? ' stroke-width="2"' : '') +
    (item.dashed ? ' stroke-dasharray="4 2"' : '') +
    (item.opacity !== undefined ? ` fill-opacity="${item.opacity}"` : '') +
    '/>';
  const hatch = item.hatch ? `<rect x="${px(x)}" y="${px(top)}" width="${px(placed.width)}" height="${LANE}" fill="url(#${HATCH})" pointer-events="none"/>` : '';
  const label = placed.label
    ? text(axisX + placed.label.x, top + LANE / 2 + 4, placed.label.text, {
        size: ITEM_FONT,
        fill: placed.label.inside ? item.ink : COLOURS.text,
        anchor: placed.label.anchor,
        cls: 'label',
      })
    : '';
  return `<g class="item"${attrs} tabindex="0"><title>${escapeXml(item.tooltip.join('\n'))}</title>${rect}${hatch}${label}</g>`;
}

interface LegendEntry {
  key: string;
  label: string;
  fill: string;
  stroke: string;
  dashed?: boolean;
  hatch?: boolean;
  opacity?: number;
}

/** Legend entries for what the scene actually shows, in a fixed order. */
function legendOf(scene: Scene): LegendEntry[] {
  const out: LegendEntry[] = [{ key: 'window', label: 'aperture window', fill: COLOURS.window, stroke: COLOURS.windowStroke }];
  const categories = new Set(scene.holes.map((h) => h.category));
  for (const c of HOLE_CATEGORIES) {
    if (categories.has(c)) out.push({ key: c, label: HOLE_SWATCHES[c].label, fill: HOLE_SWATCHES[c].fill, stroke: '#ffffff' });
  }
  if (scene.holes.some((h) => !h.enforced)) out.push({ key: 'not-enforced', label: 'dashed, faded: not enforced by the kernel', fill: '#ffffff', stroke: COLOURS.text, dashed: true });
  out.push({ key: 'usable', label: 'usable', fill: COLOURS.usable, stroke: '#ffffff' });
  if (scene.existing.length > 0) out.push({ key: 'existing', label: 'existing mapping', fill: COLOURS.existing, stroke: '#ffffff' });
  if (scene.placements.some((p) => p.state === 'placed')) out.push({ key: 'placement', label: 'placement', fill: COLOURS.placement, stroke: '#ffffff' });
  if (scene.placements.some((p) => p.state === 'wanted')) out.push({ key: 'wanted', label: scene.verdict === 'rejected' ? 'requested, refused' : 'fixed request, not placed (unsat)', fill: COLOURS.background, stroke: COLOURS.placement, dashed: true });
  if (scene.placements.some((p) => p.state === 'suggested')) out.push({ key: 'suggested', label: 'suggested instead (checked)', fill: COLOURS.background, stroke: COLOURS.placement, dashed: true });
  if (scene.conflicts.some((c) => c.ranges.length > 0)) out.push({ key: 'conflict', label: 'named by a conflict', fill: COLOURS.conflictFill, stroke: COLOURS.conflict, hatch: true });
  return out;
}

function text(x: number, y: number, content: string, style: { size: number; fill?: string; weight?: string; anchor?: 'start' | 'middle' | 'end'; cls?: string }): string {
  return (
    `<text x="${px(x)}" y="${px(y)}" font-size="${style.size}"` +
    (style.fill ? ` fill="${style.fill}"` : ` fill="${COLOURS.text}"`) +
    (style.weight ? ` font-weight="${style.weight}"` : '') +
    (style.anchor && style.anchor !== 'start' ? ` text-anchor="${style.anchor}"` : '') +
    (style.cls ? ` class="${style.cls}"` : '') +
    `>${escapeXml(content)}</text>`
  );
}
