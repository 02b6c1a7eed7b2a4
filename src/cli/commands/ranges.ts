import { AddressSpace } from '../../model/address-space.js';
import { formatSize, hex, hexGrouped } from '../../model/address.js';
import { kernelEnforces } from '../../model/hole.js';
import { formatPageSizes } from '../../model/pages.js';
import { describeProvenance } from '../../model/provenance.js';
import { sizeOf } from '../../model/range.js';
import { toJson } from '../../model/serialise.js';
import { spaceWarnings, warningJson } from '../../model/warnings.js';
import { type Command, dmaApiHolesOption, EXIT, finish, listOption, parseCommandArgs, policyOption, STRICT_HELP, STRICT_OPTION } from '../command.js';
import { loadHost } from '../inputs.js';
import { table, tableWidth } from '../table.js';
import { plural } from '../../render/text.js';

const help = `Usage: iova ranges <host.json | sources… | -> [options]

The usable IOVA ranges of a host for a set of attached devices under a consumer policy —
what IOMMU_IOAS_IOVA_RANGES or VFIO's IOVA-range capability would report — and every hole
that shaped them, with where it came from. Sources may be a host file from \`iova import\`,
or sysfs roots and reserved_regions / lspci -vvv / /proc/iomem / dmesg captures.

Options:
  --policy P          iommufd (default), vfio-type1 or dma-iommu: which reserved-region
                      types become holes (see SEMANTICS.md)
  --devices A,B       attach only these devices (PCI addresses, or group:N); default: all
  --dma-api-holes     also leave out host-bridge windows and dma-ranges gaps (the default
                      under dma-iommu); --no-dma-api-holes turns them off
  --json              print {"policy","alignment","ranges":[…],"holes":[…],"warnings":[…]} with
                      0x… strings
${STRICT_HELP}
  --wide              one line per table row (default: long cells wrap under their row to fit
                      the terminal, or 100 columns when output is not a terminal)
  -h, --help          this text

Warnings (lines the importer skipped, facts assumed from a profile) go to standard error as
"warning: file:line: …", or into "warnings" with --json.

Holes marked "not enforced" are not refused by the kernel (peer-to-peer routes, DMA-API-only
windows under iommufd/VFIO): a mapping there is accepted and then misbehaves.`;

const command: Command = {
  name: 'ranges',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('ranges', argv, {
      policy: { type: 'string' },
      devices: { type: 'string', multiple: true },
      'dma-api-holes': { type: 'boolean' },
      'no-dma-api-holes': { type: 'boolean' },
      json: { type: 'boolean' },
      ...STRICT_OPTION,
      wide: { type: 'boolean' },
    });
    const host = await loadHost(positionals);
    const dmaApiHoles = dmaApiHolesOption(values);
    const space = AddressSpace.build(host, { policy: policyOption(values.policy), devices: listOption(values.devices), dmaApiHoles });
    io.out(values.json ? toJson(rangesJson(space)) : rangesText(space, tableWidth(io, values.wide)));
    return finish(io, EXIT.ok, spaceWarnings(space), values);
  },
};

export default command;

/** The `--json` form. */
export function rangesJson(space: AddressSpace) {
  return {
    policy: space.policy,
    alignment: hex(space.alignment),
    ranges: space.usable.ranges.map((r) => ({ start: hex(r.start), last: hex(r.last), size: hex(sizeOf(r)) })),
    holes: space.holes.map((h) => ({
      start: hex(h.start),
      last: hex(h.last),
      kind: h.kind,
      type: h.type,
      source: describeProvenance(h.source),
      enforced: kernelEnforces(h.kind, space.policy),
    })),
    warnings: spaceWarnings(space).map(warningJson),
  };
}

/** The human form: a heading, the ranges table and the holes table. */
export function rangesText(space: AddressSpace, width = Infinity): string {
  const attached = space.attachments.map((a) => (a.group && a.device ? `${a.id} (group ${a.group.id})` : a.id));
  const lines = [
    `Host ${space.host.name}: policy ${space.policy}, alignment ${formatSize(space.alignment)}, pages ${formatPageSizes(space.pageSizes)}`,
    `Attached: ${attached.length > 0 ? attached.join(', ') : 'nothing'}`,
    '',
    `Usable IOVA ranges (${space.usable.ranges.length}):`,
    table(
      ['start', 'last', 'size'],
      space.usable.ranges.map((r) => [hexGrouped(r.start), hexGrouped(r.last), formatSize(sizeOf(r))]),
    ),
    '',
    `Holes (${space.holes.length}):`,
    space.holes.length === 0
      ? '  none'
      : table(
          ['start', 'last', 'kind', 'type', 'source'],
          space.holes.map((h) => [
            hexGrouped(h.start),
            hexGrouped(h.last),
            h.kind,
            h.type,
            describeProvenance(h.source) + (kernelEnforces(h.kind, space.policy) ? '' : '  [not enforced by the kernel]'),
          ]),
          '  ',
          { width },
        ),
  ];
  return lines.join('\n');
}
