import { AddressSpace } from '../../model/address-space.js';
import { InputError } from '../../model/errors.js';
import type { HostFacts } from '../../model/host.js';
import { readJsonFile } from '../../model/load.js';
import { parseHostFacts } from '../../model/schema.js';
import { renderHtml, renderSvg, renderTxt, type Scene, sceneOfLayout, sceneOfSolution, sceneOfSpace } from '../../render/index.js';
import { parseLayout } from '../../solver/layout.js';
import { solveWithSplits } from '../../solver/split.js';
import { parsePlacementSpec } from '../../solver/spec.js';
import { spaceWarnings } from '../../model/warnings.js';
import { type Command, dmaApiHolesOption, EXIT, finish, listOption, parseCommandArgs, policyOption, STRICT_HELP, STRICT_OPTION, timeoutOption } from '../command.js';
import { withElapsed } from '../elapsed.js';
import { isJsonOperand, isStdout, loadHost, writeOutput } from '../inputs.js';
import { inputName } from '../../model/stdin.js';
import { didYouMean } from '../../model/suggest.js';

const help = `Usage: iova render <host.json | sources… | spec.json | layout.json | -> [-o FILE] [options]

Draw an IOVA space as an address map: the aperture windows, every hole coloured by kind
(reserved regions by type) and stacked where holes overlap, the usable ranges, and
placements labelled with name and size. What is drawn depends on the input, decided by its
content:

  host      a host file from \`iova import\`, or sources to import (sysfs roots,
            reserved_regions, lspci -vvv, /proc/iomem, dmesg): the space alone
  spec      a placement spec (has "requests"): solved first; the placements when sat, or
            each conflict with the holes and ranges it names highlighted when unsat
  layout    a layout (has "placements"; needs --host): its placements, with every
            violation \`iova verify\` would report highlighted

An IOAS answer (one map or attach, with its rejection and suggestion) is drawn by
\`iova explain map|attach … -o FILE\`, with the same formats.

The axis is segmented, not linear: it breaks at every boundary and gives each segment a
width that grows with the logarithm of its size, so a 4 KiB hole stays visible next to a
1 TiB window. The picture says so in its footer.

Options:
  -o, --output FILE   write the picture to FILE: .svg (the default format), .html (the
                      SVG inline, hover details with full provenance, tables) or .txt (a
                      plain-text map); without -o, or with "-o -", the picture goes to
                      standard output
  --format F          svg, html or txt, whatever FILE's extension. txt is the address map
                      as text for a bug report: windows, holes (kind, type, source),
                      usable ranges and placements in address order, "!" on what a
                      conflict names, then the conflicts; at most 100 columns, control
                      characters escaped
  --host HOST         the host a layout is drawn on (repeat to give several sources); for a
                      spec, replaces the spec's own host
  --policy P          iommufd, vfio-type1 or dma-iommu (default: the spec's or layout's,
                      else iommufd)
  --devices A,B       attach only these devices (PCI addresses, or group:N)
  --dma-api-holes     include host-bridge windows and dma-ranges gaps (--no-dma-api-holes
                      leaves them out)
  --title TEXT        the picture's title
  --width PX          picture width in pixels (default 1280)
  --timeout MS        for a spec: time for the whole solve (default 30000)
${STRICT_HELP}
  -h, --help          this text

Warnings (facts of the host that were skipped or assumed) are drawn under the title and go to
standard error.

Exit codes (the picture is written in every case but 2): 0 a host, a sat spec or an accepted
layout, 1 an unsat spec or a rejected layout, 2 bad input, 3 the spec could not be solved in
time, 5 with --strict when a 0 rests on warnings.`;

/** What an input file holds, decided by its content. */
export type InputKind = 'host' | 'spec' | 'layout';

/** A placement spec has `requests`, a layout has `placements`; anything else is read as host facts. */
export function detectInputKind(data: unknown): InputKind {
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    if ('requests' in data) return 'spec';
    if ('placements' in data) return 'layout';
  }
  return 'host';
}

const command: Command = {
  name: 'render',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('render', argv, {
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      host: { type: 'string', multiple: true },
      policy: { type: 'string' },
      devices: { type: 'string', multiple: true },
      'dma-api-holes': { type: 'boolean' },
      'no-dma-api-holes': { type: 'boolean' },
      title: { type: 'string' },
      width: { type: 'string' },
      timeout: { type: 'string' },
      ...STRICT_OPTION,
    });
    if (positionals.length === 0) throw new InputError('nothing to draw: name a host file, sources, a spec or a layout (see: iova render --help)');
    const format = formatOption(values.format, values.output);
    const width = widthOption(values.width);
    const overrides = {
      policy: values.policy === undefined ? undefined : policyOption(values.policy),
      devices: listOption(values.devices),
      dmaApiHoles: dmaApiHolesOption(values),
    };
    const hostOperands = values.host ?? [];

    // One JSON file is read once and classified by content; anything else is host sources.
    const json = positionals.length === 1 && isJsonOperand(positionals[0]) ? readJsonUnlessDirectory(positionals[0]) : undefined;
    const kind: InputKind = json === undefined ? 'host' : detectInputKind(json.value);
    if (kind === 'host' && hostOperands.length > 0) throw new InputError('--host is for a spec or a layout; a host input is drawn as it is');

    let scene: Scene;
    let space: AddressSpace;
    if (json && kind === 'spec') {
      const host = hostOperands.length > 0 ? await loadHost(hostOperands) : undefined;
      const problem = parsePlacementSpec(withOverrides(json.value, overrides), json.file, host);
      const result = await withElapsed(io, 'solving', () => solveWithSplits(problem, { timeoutMs: timeoutOption(values.timeout) }));
      scene = sceneOfSolution(problem, result, { title: values.title });
      space = problem.space;
    } else if (json && kind === 'layout') {
      if (hostOperands.length === 0) throw new InputError('a layout is drawn on a host: give --host host.json');
      const layout = parseLayout(json.value, json.file);
      const host = await loadHost(hostOperands);
      space = AddressSpace.build(host, {
        policy: overrides.policy ?? layout.policy,
        devices: overrides.devices ?? layout.devices,
        dmaApiHoles: overrides.dmaApiHoles ?? layout.dmaApiHoles,
      });
      scene = sceneOfLayout(space, layout, { title: values.title, file: json.file });
    } else {
      const host: HostFacts = json ? parseHostFacts(json.value, json.file) : await loadHost(positionals);
      space = AddressSpace.build(host, overrides);
      scene = sceneOfSpace(space, { title: values.title });
    }
    const warnings = spaceWarnings(space);
    // The picture is written whatever it shows; the exit code says what it shows, as solve and verify would.
    const code = scene.verdict === 'unsat' || scene.verdict === 'rejected' ? EXIT.rejected : scene.verdict === 'unknown' ? EXIT.unknown : EXIT.ok;

    const picture = format === 'html' ? renderHtml(scene, { width }) : format === 'txt' ? renderTxt(scene) : `${renderSvg(scene, { width })}\n`;
    if (values.output === undefined || isStdout(values.output)) {
      io.out(picture.trimEnd());
      return finish(io, code, warnings, values);
    }
    writeOutput(values.output, picture, io);
    io.out(`wrote ${values.output} (${kind}: ${scene.summary})`);
    return finish(io, code, warnings, values);
  },
};

export default command;

/** A JSON file's content, or undefined when the path is a directory (a sysfs root named *.json). */
function readJsonUnlessDirectory(file: string): { file: string; value: unknown } | undefined {
  try {
    return { file: inputName(file), value: readJsonFile(file) };
  } catch (error) {
    if (error instanceof InputError && /EISDIR/.test(error.message)) return undefined;
    throw error;
  }
}

function withOverrides(spec: unknown, overrides: { policy?: string; devices?: string[]; dmaApiHoles?: boolean }): unknown {
  const out: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  if (overrides.policy !== undefined) out.policy = overrides.policy;
  if (overrides.devices !== undefined) out.devices = overrides.devices;
  if (overrides.dmaApiHoles !== undefined) out.dmaApiHoles = overrides.dmaApiHoles;
  return out;
}

export const FORMATS = ['svg', 'html', 'txt'] as const;

/** The picture format: --format, else FILE's extension, else svg (shared with `iova explain -o`). */
export function formatOption(format: string | undefined, output: string | undefined): (typeof FORMATS)[number] {
  if (format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(format)) throw new InputError(`--format must be svg, html or txt, not "${format}"${didYouMean(format, FORMATS)}`);
    return format as (typeof FORMATS)[number];
  }
  if (output === undefined || isStdout(output) || /\.svg$/i.test(output)) return 'svg';
  if (/\.html?$/i.test(output)) return 'html';
  if (/\.txt$/i.test(output)) return 'txt';
  throw new InputError(`cannot tell the format of "${output}": name it .svg, .html or .txt, or give --format`);
}

export function widthOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const width = Number(value);
  if (!Number.isSafeInteger(width) || width < 480 || width > 20_000) throw new InputError(`--width must be a whole number of pixels from 480 to 20000, not "${value}"`);
  return width;
}
