import { describeProvenance } from '../../model/provenance.js';
import { toJson } from '../../model/serialise.js';
import { InputError } from '../../model/errors.js';
import { readJsonFile } from '../../model/load.js';
import { layoutOf, parseLayout } from '../../solver/layout.js';
import { checkHotplug, type HotplugCheck } from '../../ioas/hotplug.js';
import { solve } from '../../solver/solve.js';
import { parsePlacementSpec } from '../../solver/spec.js';
import type { Layout } from '../../explain/verify.js';
import type { HostFacts } from '../../model/host.js';
import { type Command, EXIT, parseCommandArgs, policyOption, timeoutOption } from '../command.js';
import { loadHost } from '../inputs.js';
import { conflictText } from './solve.js';

const help = `Usage: iova check-attach <spec.json | layout.json> --device BDF [--host HOST] [--json]

Hot-plug check: can a device that is not attached yet join an IOAS whose layout is fixed? If
not, which of its reserved regions, aperture limits or peer-to-peer holes collide with which
placement, and the errno the kernel would return under the policy (iommufd: EADDRINUSE; VFIO
type1: EINVAL). Peer-to-peer collisions are not refused by the kernel; they are reported as
DMA that would reach the peer instead of memory.

A spec is solved first (its host is the spec's); a layout needs --host.

Options:
  --device BDF        the device to hot-plug (required)
  --host HOST         the host, for a layout file
  --policy P          iommufd or vfio-type1 (default: the layout's, else iommufd)
  --timeout MS        solver time limit when a spec has to be solved first
  --kernel X.Y        answer for this kernel version (default: the newest modelled, named in the answer)
  --json              print {"device","ok","errno","collisions":[…],"message"}
  -h, --help          this text

Exit codes: 0 the device can attach safely, 1 it cannot (or its DMA would be misrouted),
2 bad input, 3 the spec could not be solved in time.`;

const command: Command = {
  name: 'check-attach',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('check-attach', argv, {
      device: { type: 'string' },
      host: { type: 'string' },
      policy: { type: 'string' },
      timeout: { type: 'string' },
      kernel: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new InputError('give exactly one spec or layout file (see: iova check-attach --help)');
    if (!values.device) throw new InputError('--device BDF is required');
    const file = positionals[0];
    const data = readJsonFile(file);
    let layout: Layout;
    let host: HostFacts;
    if (typeof data === 'object' && data !== null && 'requests' in data && !values.host) {
      const problem = parsePlacementSpec(data, file);
      const solved = await solve(problem, { timeoutMs: timeoutOption(values.timeout) });
      if (solved.status !== 'sat') {
        io.err(`iova check-attach: the spec itself has no placement (${solved.status})`);
        if (solved.status === 'unsat') solved.conflicts.forEach((c, i) => io.err(conflictText(c, i)));
        return solved.status === 'unsat' ? EXIT.rejected : EXIT.unknown;
      }
      layout = layoutOf(problem, solved.placements);
      host = problem.space.host;
    } else {
      if (!values.host) throw new InputError('a layout file needs --host HOST');
      layout = parseLayout(data, file);
      host = await loadHost([values.host]);
    }
    const check = checkHotplug(layout, host, values.device, values.policy ? policyOption(values.policy) : undefined, values.kernel !== undefined ? { kernel: values.kernel } : {});
    io.out(values.json ? toJson(checkJson(check)) : checkText(check));
    return check.ok ? EXIT.ok : EXIT.rejected;
  },
};

export default command;

function checkJson(c: HotplugCheck) {
  return {
    device: c.device,
    kernel: c.kernel,
    ok: c.ok,
    errno: c.errno ?? null,
    code: c.code ?? 0,
    rule: c.rule ?? null,
    message: c.message,
    collisions: c.collisions.map((x) => ({
      placement: x.placement,
      hole: { start: x.hole.start, last: x.hole.last, kind: x.hole.kind, type: x.hole.type, source: describeProvenance(x.hole.source) },
      enforced: x.enforced,
      message: x.message,
    })),
    warnings: c.warnings.map((w) => w.message),
    suggestions: c.suggestions.map((s) => s.text),
  };
}

function checkText(c: HotplugCheck): string {
  const head = c.ok ? 'OK' : c.errno ? `REFUSED (-${c.errno}, ${c.rule})` : 'ATTACHES, BUT DMA WOULD BE MISROUTED';
  const lines = [`${head} (Linux ${c.kernel}): ${c.message}`];
  if (c.collisions.length > 0) lines.push('Collisions:');
  for (const x of c.collisions) lines.push(`  - ${x.message}${x.enforced ? '' : '  [not refused by the kernel]'}`);
  if (c.suggestions.length > 0) lines.push('Would work instead:');
  for (const s of c.suggestions) lines.push(`  - ${s.text}`);
  return lines.join('\n');
}
