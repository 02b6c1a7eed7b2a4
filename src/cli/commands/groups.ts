import { escapeControls } from '../../model/escape.js';
import { pciTreeOf, type PciTreeNode, type PciTreeView } from '../../model/pci-tree.js';
import { toJson } from '../../model/serialise.js';
import { plural, truncate, wrap } from '../../render/text.js';
import { type Command, EXIT, finish, parseCommandArgs, STRICT_HELP, STRICT_OPTION } from '../command.js';
import { factWarnings, warningJson } from '../../model/warnings.js';
import { loadHost } from '../inputs.js';
import { tableWidth } from '../table.js';

const help = `Usage: iova groups <host.json | sources… | -> [--json] [--wide]
       iova topology …   (the same command)

The PCI devices of a host as a tree, as \`lspci -t\` draws it but with what matters for IOMMU
work: each port's role and its ACS P2P Request Redirect state (on: peer requests go up to the
IOMMU; off: a switch hands them straight to the peer; unknown: no ACS capability was seen,
which a switch treats as off), each device's IOMMU group and name, the IOMMU groups, and which
devices' DMA reaches which peers without the IOMMU seeing it (and through which port). Sources
are a host file or captures to import (lspci -vvv, dmesg, reserved_regions, sysfs roots).

Options:
  --json     print {"host","tree":[{"id","kind","description","group","acsRedirect",
             "children"}],"groups":[{"id","devices"}],"peers":[{"device","ports","peers":
             [{"peer","ranges":[{"what","start","last","note"}]}]}]} (addresses as 0x…)
  --wide     do not shorten device names to fit the terminal (100 columns when output is
             not a terminal)
${STRICT_HELP}
  -h, --help this text

Warnings (facts of the host that were skipped or assumed — an lspci run without root shows no
ACS capabilities, so every port is "unknown") go to standard error, or into "warnings" with
--json.`;

const KIND_WORDS: Record<PciTreeNode['kind'], string> = {
  'host-bridge': 'host bridge',
  'root-port': 'root port',
  'switch-upstream': 'switch upstream port',
  'switch-downstream': 'switch downstream port',
  'pci-bridge': 'PCI bridge',
  unknown: 'bridge',
  device: '',
};

const command: Command = {
  name: 'groups',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('groups', argv, { json: { type: 'boolean' }, wide: { type: 'boolean' }, ...STRICT_OPTION });
    const host = await loadHost(positionals);
    const view = pciTreeOf(host);
    if (values.json) {
      io.out(toJson({ host: host.name, tree: view.roots, groups: view.groups, peers: view.peers, warnings: factWarnings(host).map(warningJson) }));
      return finish(io, EXIT.ok, factWarnings(host), values);
    }
    const devices = host.devices.length;
    io.out(
      [`Host ${escapeControls(host.name)}: ${plural(devices, 'device')}, ${plural(host.groups.length, 'IOMMU group')}, ${plural(host.pci.bridges.length, 'bridge')}`, '', ...groupsText(view, tableWidth(io, values.wide))].join('\n'),
    );
    return finish(io, EXIT.ok, factWarnings(host), values);
  },
};

export default command;

function nodeLine(n: PciTreeNode): string {
  const parts = [n.id];
  if (n.kind !== 'device') parts.push(KIND_WORDS[n.kind]);
  if (n.acsRedirect) parts.push(`ACS redirect ${n.acsRedirect}`);
  if (n.group !== undefined) parts.push(`group ${n.group}`);
  if (n.description) parts.push(escapeControls(n.description));
  return parts.join('  ');
}

/** The text form: the tree, the groups and the peer-to-peer reach, each line at most `width`. */
export function groupsText(view: PciTreeView, width: number): string[] {
  const lines: string[] = ['PCI tree (ACS redirect off: a switch hands peer DMA to the peer, not the IOMMU):'];
  const fit = (text: string) => (Number.isFinite(width) ? truncate(text, width) : text);
  const walk = (n: PciTreeNode, prefix: string, branch: string) => {
    // A device at the top: the sources name no bridge or host bridge whose buses hold it.
    const orphan = prefix === '' && branch === '' && n.kind === 'device' ? '  (no bridge known above it)' : '';
    lines.push(fit(`${prefix}${branch}${nodeLine(n)}${orphan}`));
    const below = prefix + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
    n.children.forEach((c, i) => walk(c, below, i === n.children.length - 1 ? '└─ ' : '├─ '));
  };
  for (const root of view.roots) walk(root, '', '');
  if (view.roots.length === 0) lines.push('  no PCI devices known');

  lines.push('', `IOMMU groups (${view.groups.length}):`);
  const idWidth = Math.max(0, ...view.groups.map((g) => String(g.id).length));
  for (const g of view.groups) lines.push(fit(`  group ${String(g.id).padEnd(idWidth)}  ${g.devices.join(', ') || 'no devices known'}`));

  lines.push('', 'Peer-to-peer (DMA a switch delivers to a peer without the IOMMU seeing it):');
  if (view.peers.length === 0) lines.push('  none: no device sits below a switch port with ACS redirect off or unknown');
  for (const p of view.peers) {
    const text = `${p.device} through ${p.ports.join(', ')} reaches ${p.peers.map((x) => `${x.peer} (${[...new Set(x.ranges.map((r) => r.what))].join(', ')})`).join('; ')}`;
    const wrapped = Number.isFinite(width) ? wrap(text, width - 6) : [text];
    lines.push(`  ${wrapped[0]}`, ...wrapped.slice(1).map((l) => `      ${l}`));
  }
  return lines;
}
