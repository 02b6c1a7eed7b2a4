import { defaultAttachmentIds, describeStep, Ioas, type InvolvedFact, type IoasPolicy, type IoasResult, type IoasWarning, isIoasPolicy, type MapInfo, type AttachInfo, type Suggestion } from '../../ioas/index.js';
import { hex, hexGrouped, parseAddress } from '../../model/address.js';
import { InputError } from '../../model/errors.js';
import { isIoasStateJson, parseIoasState } from '../../model/ioas-state.js';
import { readJsonFile } from '../../model/load.js';
import { describeProvenance } from '../../model/provenance.js';
import { describeRange, sizeOf } from '../../model/range.js';
import { parseHostFacts } from '../../model/schema.js';
import { toJson } from '../../model/serialise.js';
import { type Command, EXIT, listOption, parseCommandArgs } from '../command.js';
import { table } from '../table.js';

const help = `Usage: iova explain map <host.json | ioas.json> --length L (--iova X | --va V | --auto) [options]
       iova explain attach <host.json | ioas.json> --device BDF [options]

What the kernel would answer to one map (IOMMU_IOAS_MAP, VFIO_IOMMU_MAP_DMA) or one device
attach, and why: the errno, the rule broken, the facts involved with where each came from,
and suggestions that have been checked to be accepted.

The state: a host file (from \`iova import\`) starts an empty IOAS; for a map, the devices named
by --device are attached first (default: every device of the host). An IOAS-state file
(host, policy, attached, allowed, mappings) gives the whole state; --device then attaches more.

Options:
  --iova X          IOVA of a fixed map (FIXED_IOVA); --fixed says so explicitly
  --length L        bytes to map: hex, decimal or a binary size (4K, 2M, 1G)
  --va V            the user address mapped; without --iova the kernel places the map
                    (iommufd), keeping V's alignment and offset in its page
  --auto            the kernel places the map, no user address known
  --policy P        iommufd or vfio-type1 (default: the state file's, else iommufd)
  --device A,B      map: devices to attach first; attach: the device (or group:N) to attach
  --json            {"accepted","errno","code","rule","message","involved","suggestion",
                    "alternatives","warnings"} with addresses as 0x… strings
  -h, --help        this text

Exit codes: 0 accepted, 1 rejected, 2 bad input.`;

const command: Command = {
  name: 'explain',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('explain', argv, {
      iova: { type: 'string' },
      length: { type: 'string' },
      va: { type: 'string' },
      fixed: { type: 'boolean' },
      auto: { type: 'boolean' },
      policy: { type: 'string' },
      device: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    const [what, file, ...extra] = positionals;
    if (what !== 'map' && what !== 'attach') throw new InputError('say what to explain: "iova explain map …" or "iova explain attach …" (see: iova explain --help)');
    if (file === undefined) throw new InputError('name a host file or an IOAS-state file');
    if (extra.length > 0) throw new InputError(`unexpected operand "${extra[0]}"`);
    const policy = policyOf(values.policy);
    const devices = listOption(values.device);
    const data = readJsonFile(file);

    let ioas: Ioas;
    let first: string[];
    if (isIoasStateJson(data)) {
      try {
        ioas = Ioas.fromState(parseIoasState(data, file), { policy });
      } catch (error) {
        throw error instanceof InputError ? error.inFile(file) : error;
      }
      first = what === 'map' ? devices ?? [] : [];
    } else {
      const host = parseHostFacts(data, file);
      ioas = Ioas.create(host, { policy });
      first = what === 'map' ? devices ?? defaultAttachmentIds(host) : [];
    }
    for (const id of first) {
      if (ioas.attached.includes(id)) continue;
      const r = ioas.attach(id);
      if (!r.ok) throw new InputError(`cannot attach ${id} before the map: ${r.message.replace(/\.$/, '')} (-${r.errno}, ${r.rule})`, { file });
    }

    let result: IoasResult<MapInfo | AttachInfo>;
    let subject: string;
    if (what === 'map') {
      const request = mapRequest(values);
      result = ioas.map(request);
      subject = request.fixed ? `fixed map at ${hexGrouped(request.iova ?? 0n)}` : 'automatic map';
    } else {
      if (!devices || devices.length !== 1) throw new InputError('name the one device to attach with --device');
      result = ioas.attach(devices[0]);
      subject = `attach ${devices[0]}`;
    }
    io.out(values.json ? toJson(explainJson(result)) : explainText(result, subject, ioas.policy));
    return result.ok ? EXIT.ok : EXIT.rejected;
  },
};

export default command;

function policyOf(value: string | undefined): IoasPolicy | undefined {
  if (value === undefined) return undefined;
  if (!isIoasPolicy(value)) throw new InputError(`unknown policy "${value}"; an IOAS is iommufd or vfio-type1`);
  return value;
}

function mapRequest(values: { iova?: string; length?: string; va?: string; fixed?: boolean; auto?: boolean }) {
  if (values.length === undefined) throw new InputError('give the length to map with --length');
  const length = parseAddress(values.length, 'length');
  const iova = values.iova !== undefined ? parseAddress(values.iova, 'IOVA') : undefined;
  const va = values.va !== undefined ? parseAddress(values.va, 'user address') : undefined;
  if (values.auto && (iova !== undefined || values.fixed)) throw new InputError('--auto lets the kernel pick the IOVA; do not give --iova or --fixed with it');
  if (values.fixed && iova === undefined) throw new InputError('a fixed map needs --iova');
  const fixed = iova !== undefined;
  if (!fixed && !values.auto && va === undefined) throw new InputError('give --iova for a fixed map, or --va / --auto to let the kernel place it');
  return { iova, length, fixed, va };
}

/** The `--json` form. */
export function explainJson(result: IoasResult<MapInfo | AttachInfo>) {
  const warnings = result.warnings.map(warningJson);
  if (result.ok) {
    const placed = 'iova' in result ? { iova: result.iova, last: result.last, length: result.length, alignment: result.alignment } : { device: result.device, newDomain: result.newDomain, alignment: result.alignment };
    return { accepted: true, errno: null, code: 0, rule: null, message: acceptedMessage(result), involved: [], blocking: null, suggestion: null, alternatives: [], warnings, ...placed };
  }
  const [suggestion, ...alternatives] = result.suggestions.map(suggestionJson);
  return {
    accepted: false,
    errno: result.errno,
    code: result.code,
    rule: result.rule,
    message: result.message,
    involved: result.involved.map(factJson),
    blocking: result.blocking ? factJson(result.blocking) : null,
    suggestion: suggestion ?? null,
    alternatives,
    warnings,
  };
}

function factJson(f: InvolvedFact) {
  return {
    start: hex(f.range.start),
    last: hex(f.range.last),
    size: hex(sizeOf(f.range)),
    fact: f.fact,
    what: f.what,
    ...(f.holeKind ? { kind: f.holeKind, type: f.holeType, enforced: f.enforced } : {}),
    ...(f.owners ? { owners: f.owners } : {}),
    source: describeProvenance(f.source),
    provenance: f.source,
  };
}

function suggestionJson(s: Suggestion) {
  return { text: s.text, steps: s.steps };
}

function warningJson(w: IoasWarning) {
  return { kind: w.kind, start: hex(w.range.start), last: hex(w.range.last), message: w.message, fact: factJson(w.fact) };
}

function acceptedMessage(result: MapInfo | AttachInfo): string {
  if ('iova' in result) {
    return `The ${result.automatic ? 'automatic' : 'fixed'} map is accepted at ${describeRange({ start: result.iova, last: result.last })}.`;
  }
  return `Attaching ${result.device} is accepted${result.newDomain ? ' with a new IOMMU domain' : ''}; it reserves ${result.reserved.length} range${result.reserved.length === 1 ? '' : 's'}.`;
}

/** The human form. */
export function explainText(result: IoasResult<MapInfo | AttachInfo>, subject: string, policy: IoasPolicy): string {
  const lines: string[] = [];
  if (result.ok) {
    lines.push(`ACCEPTED  ${subject} (${policy})`, `  ${acceptedMessage(result)}`);
  } else {
    lines.push(`REJECTED (-${result.errno})  ${subject} (${policy})`, `  rule: ${result.rule}`, `  ${result.message}`);
    if (result.involved.length > 0) {
      lines.push('', 'Involved:');
      lines.push(
        table(
          ['range', 'fact', 'source', 'brought by'],
          result.involved.map((f) => [describeRange(f.range), f.what, describeProvenance(f.source), (f.owners ?? []).join(', ')]),
        ),
      );
    }
    const [best, ...others] = result.suggestions;
    lines.push('', best ? `Suggestion: ${best.text}` : 'Suggestion: none found that the kernel would accept');
    if (best) lines.push(...best.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`));
    if (others.length > 0) lines.push('Alternatives:', ...others.map((s) => `  - ${s.text}`));
  }
  if (result.warnings.length > 0) lines.push('', 'Warnings:', ...result.warnings.map((w) => `  - ${w.message}`));
  return lines.join('\n');
}
