import { formatSize, hexGrouped } from '../../model/address.js';
import { InputError } from '../../model/errors.js';
import { formatPageSizes } from '../../model/pages.js';
import { describeProvenance } from '../../model/provenance.js';
import { toJson } from '../../model/serialise.js';
import type { Conflict } from '../../solver/explain.js';
import { layoutOf, layoutToJson } from '../../solver/layout.js';
import type { Placement, SolveResult } from '../../solver/solve.js';
import { loadPlacementSpec } from '../../solver/spec.js';
import { warningJson } from '../../model/warnings.js';
import { solveWithSplits } from '../../solver/split.js';
import { type Command, EXIT, finish, type Io, parseCommandArgs, STRICT_HELP, STRICT_OPTION, timeoutOption } from '../command.js';
import { withElapsed } from '../elapsed.js';
import { isStdout, loadHost, writeOutput } from '../inputs.js';
import { readJsonFile } from '../../model/load.js';
import { validate } from '../../model/validate.js';
import { fleetFiles } from '../../solver/fleet.js';
import { describeHosts, solvePool } from '../../solver/pool.js';
import { zPlacementSpec } from '../../solver/spec.js';
import { plural } from '../../render/text.js';
import { table, tableWidth } from '../table.js';

const help = `Usage: iova solve <spec.json | -> [--host HOST … | --fleet DIR] [--json] [--timeout MS] [-o layout.json]

Place the spec's requests in the host's IOVA space, or explain why they cannot be placed.
Every placement is certified by the independent verifier; every conflict is minimal (drop any
one of its constraints and the rest can be satisfied), and every repair has been solved again.

With --host (repeatable) or --fleet, solve for a migration pool instead of the spec's host:
one layout that every host accepts (hosts with identical facts are solved once), verified on
each host; when none exists, the conflict names the hosts and facts involved, and a repair
may be to leave some hosts out of the pool.

Options:
  --host HOST         a host of the pool (host file or sources; repeat for several)
  --fleet DIR         every host file (*.json) in DIR is a host of the pool
  --json              print {"status","placements","conflicts","repairs","warnings"} (addresses
                      as 0x…)
  --timeout MS        the whole solve (placement, conflicts and repairs) takes at most MS
                      milliseconds (default 30000, at most 2147483647); past that the answer
                      is "unknown" (exit 3) with the phase it ran out in and what was learnt
  -o, --output FILE   when sat, write the layout (with each request's requirements) for
                      \`iova verify\` and \`iova check-attach\`; "-o -" writes it to standard
                      output and the answer to standard error (not with --json)
${STRICT_HELP}
  --wide              one line per table row (default: long cells wrap under their row to fit
                      the terminal, or 100 columns when output is not a terminal)
  -h, --help          this text

Warnings (facts of the host that were skipped or assumed) go to standard error, or into
"warnings" with --json.

Exit codes: 0 sat, 1 unsat, 2 bad input, 3 unknown, 5 sat but with warnings (--strict).`;

const command: Command = {
  name: 'solve',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('solve', argv, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      output: { type: 'string', short: 'o' },
      ...STRICT_OPTION,
      wide: { type: 'boolean' },
      host: { type: 'string', multiple: true },
      fleet: { type: 'string' },
    });
    if (positionals.length !== 1) throw new InputError('give exactly one spec file (see: iova solve --help)');
    const timeoutMs = timeoutOption(values.timeout);
    if (values.json && isStdout(values.output)) throw new InputError('-o - writes the layout to standard output, where --json would print the answer: give -o FILE, or leave out one of them');
    // With the layout on standard output, the answer goes to standard error.
    const layoutIo = io;
    if (isStdout(values.output)) io = { ...io, out: io.err };
    if (values.host !== undefined || values.fleet !== undefined) return solveForPool(positionals[0], values, timeoutMs, io, layoutIo);
    const problem = loadPlacementSpec(positionals[0]);
    const result = await withElapsed(io, 'solving', () => solveWithSplits(problem, { timeoutMs }));
    if (values.output && result.status === 'sat') {
      writeOutput(values.output, `${toJson(layoutToJson(layoutOf(problem, result.placements)))}\n`, layoutIo);
    }
    io.out(values.json ? toJson(solveJson(result)) : solveText(result, `${problem.space.host.name} (policy ${problem.space.policy}, alignment ${formatSize(problem.space.alignment)}, pages ${formatPageSizes(problem.space.pageSizes)})`, tableWidth(io, values.wide)));
    return finish(io, result.status === 'sat' ? EXIT.ok : result.status === 'unsat' ? EXIT.rejected : EXIT.unknown, result.warnings, values);
  },
};

export default command;

/** `--host … | --fleet DIR`: one layout for every host of a pool. */
async function solveForPool(specFile: string, values: { host?: string[]; fleet?: string; json?: boolean; output?: string }, timeoutMs: number, io: Io, layoutIo: Io): Promise<number> {
  if (values.host !== undefined && values.fleet !== undefined) throw new InputError('give either --host or --fleet, not both');
  const files = values.fleet !== undefined ? fleetFiles(values.fleet) : (values.host ?? []);
  const hosts = [];
  for (const file of files) hosts.push(await loadHost([file]));
  const raw = validate(zPlacementSpec, readJsonFile(specFile), specFile);
  const answer = await solvePool(raw, hosts, { timeoutMs, file: specFile, files });
  const { result } = answer;
  const where = `${answer.hosts} host${answer.hosts === 1 ? '' : 's'} (${answer.distinct} distinct; policy ${raw.policy})`;
  if (values.output && result.status === 'sat') {
    writeOutput(values.output, `${toJson(layoutToJson(layoutOf(answer.problem, result.placements)))}\n`, layoutIo);
  }
  const leaveOut = answer.leaveOut
    ? { description: `leave ${describeHosts(answer.leaveOut.hosts)} out of the pool`, changes: [{ kind: 'leave-out-hosts', hosts: answer.leaveOut.hosts }], placements: answer.leaveOut.placements }
    : undefined;
  if (values.json) {
    const json = solveJson(result);
    io.out(toJson({ ...json, hosts: answer.hosts, distinct: answer.distinct, ...(leaveOut ? { repairs: [...json.repairs, { ...leaveOut, placements: leaveOut.placements.map(placementJson) }] } : {}) }));
  } else {
    const text = leaveOut ? solveText(result, where).replace(/\nNo repair found\.$/, '') : solveText(result, where);
    io.out(leaveOut ? `${text}\nPool repair (solved again, verified on every remaining host):\n  - ${leaveOut.description}\n${placementsTable(leaveOut.placements).replace(/^/gm, '     ')}` : text);
  }
  return result.status === 'sat' ? EXIT.ok : result.status === 'unsat' ? EXIT.rejected : EXIT.unknown;
}

function placementJson(p: Placement) {
  return {
    name: p.name,
    iova: p.iova,
    last: p.last,
    size: p.size,
    pages: p.pages.map((x) => ({ pageSize: x.pageSize, count: x.count })),
    ...(p.pieces ? { pieces: p.pieces.map((x) => ({ iova: x.iova, last: x.last, size: x.size })) } : {}),
  };
}

function conflictJson(c: Conflict) {
  return {
    message: c.message,
    minimal: c.minimal,
    constraints: c.constraints.map((x) => ({ id: x.id, kind: x.kind, requests: x.requests, text: x.text, range: x.range, source: x.source ? describeProvenance(x.source) : undefined })),
    bound: c.bound ? { requests: c.bound.requests, align: c.bound.align, minSize: c.bound.minSize, need: c.bound.need, holds: c.bound.holds, space: c.bound.space } : undefined,
  };
}

/** The `--json` form: status, placements, conflicts, repairs (and the reason when unknown). */
export function solveJson(result: SolveResult) {
  return { ...solveAnswerJson(result), warnings: result.warnings.map(warningJson) };
}

function solveAnswerJson(result: SolveResult) {
  switch (result.status) {
    case 'sat':
      return { status: 'sat', placements: result.placements.map(placementJson), conflicts: [], repairs: [] };
    case 'unsat':
      return {
        status: 'unsat',
        placements: [],
        conflicts: result.conflicts.map(conflictJson),
        repairs: result.repairs.map((r) => ({ description: r.description, changes: r.changes, placements: r.placements.map(placementJson) })),
      };
    case 'unknown':
      return { status: 'unknown', placements: [], conflicts: [], repairs: [], reason: result.reason, ...(result.phase ? { phase: result.phase } : {}), tried: result.tried, learnt: result.learnt };
  }
}

export function placementsTable(placements: readonly Placement[], width = Infinity): string {
  return table(
    ['name', 'iova', 'last', 'size', 'pages'],
    placements.flatMap((p) => [
      [p.pieces ? `${p.name} (${p.pieces.length} piece${p.pieces.length === 1 ? '' : 's'})` : p.name, hexGrouped(p.iova), hexGrouped(p.last), formatSize(p.size), p.pages.map((x) => `${x.count}×${formatSize(x.pageSize)}`).join(' + ')],
      ...(p.pieces ?? []).map((x, i) => [`  [${i}]`, hexGrouped(x.iova), hexGrouped(x.last), formatSize(x.size), '']),
    ]),
    '  ',
    { width },
  );
}

export function conflictText(c: Conflict, index: number): string {
  const lines = [`Conflict ${index + 1}${c.minimal ? '' : ' (possibly not minimal: not shrunk to a smallest set)'}: ${c.message}`];
  for (const x of c.constraints) lines.push(`  - ${x.text}${x.source && !x.text.includes(describeProvenance(x.source)) ? `  [${describeProvenance(x.source)}]` : ''}`);
  return lines.join('\n');
}

/** The human form. */
export function solveText(result: SolveResult, where: string, width = Infinity): string {
  switch (result.status) {
    case 'sat':
      return [`sat: ${plural(result.placements.length, 'placement')} on ${where}`, placementsTable(result.placements, width)].join('\n');
    case 'unsat': {
      const lines = [`unsat: no placement exists on ${where}`, ''];
      result.conflicts.forEach((c, i) => lines.push(conflictText(c, i), ''));
      if (result.repairs.length === 0) lines.push('No repair found.');
      else {
        lines.push('Repairs (cheapest first; each was solved again and works):');
        result.repairs.forEach((r, i) => {
          lines.push(`  ${i + 1}. ${r.description}`);
          lines.push(placementsTable(r.placements, width - 5).replace(/^/gm, '     '));
        });
      }
      return lines.join('\n').trimEnd();
    }
    case 'unknown':
      return [`unknown: ${result.reason}`, ...result.tried.map((t) => `  tried: ${t}`), ...learntText(result.learnt)].join('\n');
  }
}

/** What an unknown answer learnt, as lines: how many requests a partial placement holds, the closest bound. */
function learntText(learnt: Extract<SolveResult, { status: 'unknown' }>['learnt']): string[] {
  if (!learnt) return [];
  const lines = [`  learnt: a partial placement holds ${learnt.placed.length} request${learnt.placed.length === 1 ? '' : 's'} (not certified)`];
  const c = learnt.closest;
  if (c) lines.push(`  learnt: closest capacity bound: ${c.requests.length} request${c.requests.length === 1 ? '' : 's'} need ${formatSize(c.need)}, their space holds ${formatSize(c.holds)}`);
  return lines;
}
