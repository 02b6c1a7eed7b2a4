import { explainJson, explainText, summary } from '../../explain/render.js';
import { defaultAttachmentIds, Ioas, type IoasPolicy, type IoasResult, isIoasPolicy, type MapInfo, type AttachInfo } from '../../ioas/index.js';
import { hexGrouped, parseAddress } from '../../model/address.js';
import { InputError } from '../../model/errors.js';
import { type Backing, BACKINGS, isIoasStateJson, parseIoasState } from '../../model/ioas-state.js';
import { DEFAULT_KERNEL, parseKernel } from '../../ioas/kernel.js';
import { isJsonPath, loadHost, writeOutput } from '../inputs.js';
import { readJsonFile } from '../../model/load.js';
import { inputName } from '../../model/stdin.js';
import { parseHostFacts } from '../../model/schema.js';
import { didYouMean } from '../../model/suggest.js';
import { toJson } from '../../model/serialise.js';
import type { HostFacts } from '../../model/host.js';
import { factWarnings, type Warning, warningJson } from '../../model/warnings.js';
import { type Command, EXIT, finish, listOption, parseCommandArgs, STRICT_OPTION } from '../command.js';
import { table, tableWidth } from '../table.js';
import { renderHtml, renderSvg, renderTxt, sceneOfIoasAnswer } from '../../render/index.js';
import { formatOption, widthOption } from './render.js';

const help = `Usage: iova explain map <host.json | ioas.json | sources… | -> --length L (--iova X | --va V | --auto) [options]
       iova explain attach <host.json | ioas.json | sources… | -> --device BDF [options]

What the kernel would answer to one map (IOMMU_IOAS_MAP, VFIO_IOMMU_MAP_DMA) or one device
attach, and why: the errno, the rule broken, the facts involved with where each came from,
and suggestions that have been checked to be accepted.

The state: a host file (from \`iova import\`), or raw sources as \`iova ranges\` takes them (a
sysfs root, reserved_regions, lspci -vvv, /proc/iomem, dmesg), starts an empty IOAS; for a map,
the devices named by --device are attached first (default: every device of the host). An
IOAS-state file (host, policy, attached, allowed, mappings, kernel, dmaEntryLimit) gives the
whole state; --device then attaches more. Every answer names the kernel version it holds for.

Options:
  --iova X          IOVA of a fixed map (FIXED_IOVA); --fixed says so explicitly
  --length L        bytes to map: hex, decimal or a binary size (4K, 2M, 1G)
  --va V            the user address mapped; without --iova the kernel places the map
                    (iommufd), keeping V's alignment and offset in its page
  --auto            the kernel places the map, no user address known
  --backing KIND    what backs the mapped memory: anonymous (default), memfd, hugetlb,
                    pfnmap (an mmap()ed PCI BAR), dma-buf (with --file)
  --file            IOMMU_IOAS_MAP_FILE: --va is then the offset in the memfd or dma-buf
  --policy P        iommufd or vfio-type1 (default: the state file's, else iommufd)
  --kernel X.Y      answer for this kernel version (default: the state file's, else ${DEFAULT_KERNEL});
                    versions the rules were not checked for are refused as not modelled
  --dma-entry-limit N  vfio_iommu_type1's dma_entry_limit when the container got its IOMMU
  --device A,B      map: devices to attach first; attach: the device (or group:N) to attach
  --json            {"accepted","kernel","errno","code","rule","message","involved","suggestion",
                    "alternatives","warnings"} with addresses as 0x… strings and each fact's
                    provenance (file, line, path, group, device)
  --strict          exit 5 instead of 0 when the answer rests on facts of the host that were
                    skipped or assumed; for CI and fleet runs
  -o, --output FILE also draw the answer as a picture: .svg (default format), .html or .txt, as
                    \`iova render\` draws: the aperture, reserved ranges with who brought them,
                    allowed ranges, existing mappings, the requested map, the rejection's
                    facts marked and the suggested map dashed; "-o -" writes the picture to
                    standard output instead of the answer
  --format F        svg, html or txt, whatever FILE's extension
  --title TEXT      the picture's title
  --width PX        picture width in pixels (default 1280)
  --wide            one line per table row (default: long cells wrap under their row to fit
                    the terminal, or 100 columns when output is not a terminal)
  -h, --help        this text

"warnings" holds both kinds: what an accepted map would misroute (peer-to-peer, DMA-API
holes; shown under "Warnings:"), and facts of the host that were skipped or assumed (kind
"skipped-line"/"assumption" or none, with file and line; shown on standard error as
"warning: file:line: …").

Exit codes: 0 accepted, 1 rejected, 2 bad input, 5 accepted but resting on warnings (--strict).`;

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
      backing: { type: 'string' },
      file: { type: 'boolean' },
      kernel: { type: 'string' },
      'dma-entry-limit': { type: 'string' },
      json: { type: 'boolean' },
      ...STRICT_OPTION,
      wide: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      title: { type: 'string' },
      width: { type: 'string' },
    });
    const [what, ...operands] = positionals;
    if (what !== 'map' && what !== 'attach') throw new InputError('say what to explain: "iova explain map …" or "iova explain attach …" (see: iova explain --help)');
    if (operands.length === 0) throw new InputError('name a host file, an IOAS-state file, or sources to import');
    const operand = operands[0];
    const picture = values.output === undefined ? undefined : { file: values.output, format: formatOption(values.format, values.output === '-' ? undefined : values.output), width: widthOption(values.width) };
    const file = inputName(operand);
    const policy = policyOf(values.policy);
    const devices = listOption(values.device);
    const options = {
      ...(policy ? { policy } : {}),
      ...(values.kernel !== undefined ? { kernel: parseKernel(values.kernel) } : {}),
      ...(values['dma-entry-limit'] !== undefined ? { dmaEntryLimit: countOption('--dma-entry-limit', values['dma-entry-limit']) } : {}),
    };
    const data = operands.length === 1 && (operand === '-' || isJsonPath(operand)) ? readJsonFile(operand) : undefined;

    let ioas: Ioas;
    let first: string[];
    let host: HostFacts;
    if (data !== undefined && isIoasStateJson(data)) {
      try {
        const state = parseIoasState(data, file);
        host = state.host;
        ioas = Ioas.fromState(state, options);
      } catch (error) {
        throw error instanceof InputError ? error.inFile(file) : error;
      }
      first = what === 'map' ? devices ?? [] : [];
    } else {
      host = data !== undefined ? parseHostFacts(data, file) : await loadHost(operands);
      ioas = Ioas.create(host, options);
      first = what === 'map' ? devices ?? defaultAttachmentIds(host) : [];
    }
    const request = what === 'map' ? mapRequest(values) : undefined;
    if (what === 'attach' && (!devices || devices.length !== 1)) throw new InputError('name the one device to attach with --device');
    // A device the host does not know is looked up in the file: name it.
    const inFile = <T>(f: () => T): T => {
      try {
        return f();
      } catch (error) {
        throw error instanceof InputError ? error.inFile(file) : error;
      }
    };
    for (const id of first) {
      if (ioas.attached.includes(id)) continue;
      const r = inFile(() => ioas.attach(id));
      if (!r.ok) throw new InputError(`cannot attach ${id} before the map: ${summary(r)}`, { file });
    }

    // The picture draws the IOAS as it was asked, before the operation changed it.
    const before = picture ? ioas.clone() : undefined;
    let result: IoasResult<MapInfo | AttachInfo>;
    let subject: string;
    if (request) {
      result = inFile(() => ioas.map(request));
      subject = `${request.file ? 'MAP_FILE' : request.fixed ? 'fixed map' : 'automatic map'}${request.fixed ? ` at ${hexGrouped(request.iova ?? 0n)}` : ''}`;
    } else {
      const device = (devices as string[])[0];
      result = inFile(() => ioas.attach(device));
      subject = `attach ${device}`;
    }
    const facts = factWarnings(host);
    if (picture && before) {
      const question = request ? { op: 'map' as const, iova: request.iova, length: request.length, fixed: request.fixed } : { op: 'attach' as const, device: (devices as string[])[0] };
      const scene = sceneOfIoasAnswer(before, question, result, { subject, title: values.title });
      const drawn = picture.format === 'html' ? renderHtml(scene, { width: picture.width }) : picture.format === 'txt' ? renderTxt(scene) : `${renderSvg(scene, { width: picture.width })}\n`;
      if (picture.file === '-') {
        io.out(drawn.trimEnd());
        return finish(io, result.ok ? EXIT.ok : EXIT.rejected, facts, values);
      }
      writeOutput(picture.file, drawn, io);
    }
    io.out(values.json ? toJson(explainJson(result, facts)) : explainText(result, subject, ioas.policy, (h, rows) => table(h, rows, '  ', { width: tableWidth(io, values.wide), under: 2 })));
    return finish(io, result.ok ? EXIT.ok : EXIT.rejected, facts, values);
  },
};

export default command;

function policyOf(value: string | undefined): IoasPolicy | undefined {
  if (value === undefined) return undefined;
  if (!isIoasPolicy(value)) throw new InputError(`unknown policy "${value}"; an IOAS is iommufd or vfio-type1${didYouMean(value, ['iommufd', 'vfio-type1'])}`);
  return value;
}

function countOption(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InputError(`${flag} must be a count, not "${value.slice(0, 40)}"`);
  return n;
}

function backingOf(value: string | undefined): Backing | undefined {
  if (value === undefined) return undefined;
  if (!(BACKINGS as readonly string[]).includes(value)) throw new InputError(`unknown --backing "${value.slice(0, 40)}"; expected one of ${BACKINGS.join(', ')}`);
  return value as Backing;
}

function mapRequest(values: { iova?: string; length?: string; va?: string; fixed?: boolean; auto?: boolean; backing?: string; file?: boolean }) {
  if (values.length === undefined) throw new InputError('give the length to map with --length');
  const length = parseAddress(values.length, 'length');
  const iova = values.iova !== undefined ? parseAddress(values.iova, 'IOVA') : undefined;
  const va = values.va !== undefined ? parseAddress(values.va, 'user address') : undefined;
  if (values.auto && (iova !== undefined || values.fixed)) throw new InputError('--auto lets the kernel pick the IOVA; do not give --iova or --fixed with it');
  if (values.fixed && iova === undefined) throw new InputError('a fixed map needs --iova');
  const fixed = iova !== undefined;
  if (!fixed && !values.auto && va === undefined) throw new InputError('give --iova for a fixed map, or --va / --auto to let the kernel place it');
  const backing = backingOf(values.backing);
  return { iova, length, fixed, va, ...(backing ? { backing } : {}), ...(values.file ? { file: true } : {}) };
}

