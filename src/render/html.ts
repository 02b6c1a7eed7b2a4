/**
 * A scene as one self-contained HTML page: the SVG map inline, a details panel that shows the
 * full provenance of whatever hole, mapping or placement the pointer or keyboard focus is on,
 * the conflicts in words, and tables of the holes, placements, mappings and usable ranges.
 *
 * Nothing is fetched: styles and the small script are inline, and a Content-Security-Policy
 * forbids any other source. The page works without the script too (the `<title>` tooltips).
 */
import { formatSize, hexGrouped } from '../model/address.js';
import { type IovaRange, sizeOf } from '../model/range.js';
import { COLOURS, HOLE_SWATCHES } from './palette.js';
import type { Scene } from './scene.js';
import { type RenderOptions, renderSvg, SCALE_NOTE } from './svg.js';
import { escapeXml, FONT_FAMILY } from './text.js';

const STYLE = `
body{margin:16px;font-family:system-ui,'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:${COLOURS.text};background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px}
.facts{color:${COLOURS.muted};margin:2px 0}.warnings{color:${COLOURS.conflict};margin:4px 0}.summary{font-weight:bold}.summary.bad{color:${COLOURS.conflict}}
.map{overflow-x:auto;border:1px solid ${COLOURS.grid}}
.map svg{display:block}
.iova-map .item.selected>.bar{stroke:${COLOURS.text};stroke-width:2}
#details{position:sticky;bottom:0;background:#fff;border:1px solid ${COLOURS.grid};border-left:4px solid ${COLOURS.placement};padding:6px 10px;margin-top:8px}
#details pre{margin:0;white-space:pre-wrap;font-family:${FONT_FAMILY};font-size:12px}
table{border-collapse:collapse;font-size:12px}
th,td{border-bottom:1px solid ${COLOURS.grid};padding:3px 8px;text-align:left;vertical-align:top}
td.addr{font-family:${FONT_FAMILY};white-space:nowrap}td.size{white-space:nowrap}
tr[data-ref]{cursor:pointer}tr[data-ref]:hover{background:${COLOURS.stripe}}
tr.conflict td{color:${COLOURS.conflict}}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:middle;border:1px solid #fff}
.conflicts li{margin-bottom:6px}.conflicts .message{color:${COLOURS.conflict};font-weight:bold}
.note{color:${COLOURS.muted};font-size:12px}
`;

// Shows the <title> of the hovered or focused map element in the details panel; a table row
// selects its element. Plain ES5 DOM calls, so any browser that shows the SVG runs it.
const SCRIPT = `
(function () {
  var panel = document.getElementById('details-text');
  var current = null;
  function show(el) {
    var title = el.querySelector('title');
    panel.textContent = title ? title.textContent : '';
    if (current) current.classList.remove('selected');
    current = el;
    el.classList.add('selected');
  }
  function item(target) {
    return target.closest ? target.closest('.iova-map [data-kind]') : null;
  }
  document.addEventListener('mouseover', function (e) { var el = item(e.target); if (el) show(el); });
  document.addEventListener('focusin', function (e) { var el = item(e.target); if (el) show(el); });
  document.addEventListener('click', function (e) {
    var row = e.target.closest ? e.target.closest('tr[data-ref]') : null;
    if (!row) return;
    var el = document.querySelector('.iova-map [data-ref="' + row.getAttribute('data-ref') + '"]');
    if (el) { show(el); el.focus(); }
  });
})();
`;

/** The scene as an HTML document. */
export function renderHtml(scene: Scene, options: RenderOptions = {}): string {
  const bad = scene.verdict === 'unsat' || scene.verdict === 'rejected';
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(scene.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeXml(scene.title)}</h1>`,
    ...scene.facts.map((f) => `<p class="facts">${escapeXml(f)}</p>`),
    scene.warnings.length > 0 ? `<ul class="warnings">${scene.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : '',
    `<p class="summary${bad ? ' bad' : ''}" data-verdict="${scene.verdict}">${escapeXml(scene.summary)}</p>`,
    `<div class="map">${renderSvg(scene, options)}</div>`,
    '<aside id="details" aria-live="polite"><pre id="details-text">Point at or focus a hole, mapping or placement (or click a table row) for its details and provenance.</pre></aside>',
    conflictsSection(scene),
    holesTable(scene),
    placementsTable(scene),
    existingTable(scene),
    usableTable(scene),
    `<p class="note scale-note">${escapeXml(SCALE_NOTE)}</p>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ];
  return parts.filter((p) => p !== '').join('\n') + '\n';
}

function conflictsSection(scene: Scene): string {
  if (scene.conflicts.length === 0) return '';
  const items = scene.conflicts.map(
    (c) =>
      `<li><span class="message">${escapeXml(`${c.label}: ${c.message}`)}</span>` +
      (c.details.length > 0 ? `<ul>${c.details.map((d) => `<li>${escapeXml(d)}</li>`).join('')}</ul>` : '') +
      '</li>',
  );
  const heading = scene.verdict === 'rejected' ? 'Violations' : 'Conflicts';
  const repairs =
    scene.repairs.length > 0
      ? `\n<h2>${escapeXml((scene.repairsHeading ?? 'Repairs (each was solved again and works)'))}</h2>\n<ol class="repairs">\n${scene.repairs.map((r) => `<li>${escapeXml(r)}</li>`).join('\n')}\n</ol>`
      : '';
  return `<h2>${heading}</h2>\n<ul class="conflicts">\n${items.join('\n')}\n</ul>${repairs}`;
}

function holesTable(scene: Scene): string {
  const rows = scene.holes.map(
    (h, i) =>
      `<tr data-row="hole" data-ref="hole-${i}"${h.conflict ? ' class="conflict"' : ''}>` +
      rangeCells(h) +
      `<td><span class="swatch" style="background:${HOLE_SWATCHES[h.category].fill}"></span>${escapeXml(h.kind)}</td><td>${escapeXml(h.type)}</td>` +
      `<td>${h.enforced ? 'yes' : 'no'}</td><td>${escapeXml(h.provenance)}</td></tr>`,
  );
  return table(`Holes (${scene.holes.length})`, ['start', 'last', 'size', 'kind', 'type', 'enforced', 'source'], rows);
}

function placementsTable(scene: Scene): string {
  if (scene.placements.length === 0) return '';
  const rows = scene.placements.map(
    (p, i) =>
      `<tr data-row="placement" data-ref="placement-${i}"${p.conflict ? ' class="conflict"' : ''}>` +
      `<td>${escapeXml(p.name)}</td>${rangeCells(p)}<td>${p.state}</td><td>${escapeXml(p.details.join('; '))}</td></tr>`,
  );
  return table(`Placements (${scene.placements.length})`, ['name', 'start', 'last', 'size', 'state', 'details'], rows);
}

function existingTable(scene: Scene): string {
  if (scene.existing.length === 0) return '';
  const rows = scene.existing.map(
    (m, i) => `<tr data-row="existing" data-ref="existing-${i}"${m.conflict ? ' class="conflict"' : ''}><td>${escapeXml(m.name)}</td>${rangeCells(m)}<td>${escapeXml(m.provenance)}</td></tr>`,
  );
  return table(`Existing mappings (${scene.existing.length})`, ['name', 'start', 'last', 'size', 'source'], rows);
}

function usableTable(scene: Scene): string {
  return table(`Usable ranges (${scene.usable.length})`, ['start', 'last', 'size'], scene.usable.map((u) => `<tr data-row="usable">${rangeCells(u)}</tr>`));
}

function rangeCells(r: IovaRange): string {
  return `<td class="addr">${hexGrouped(r.start)}</td><td class="addr">${hexGrouped(r.last)}</td><td class="size">${escapeXml(formatSize(sizeOf(r)))}</td>`;
}

function table(title: string, headings: string[], rows: string[]): string {
  return [
    `<h2>${escapeXml(title)}</h2>`,
    '<table>',
    `<thead><tr>${headings.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}
