import { checkGuestMap, formatAcpiReserved, formatE820, type GuestMapCheck, guestMapJson, guestMemoryMap, parseGuestMap, ramPlacements } from '../../guest/memory-map.js';
import { hex } from '../../model/address.js';
import { InputError } from '../../model/errors.js';
import { readInputText } from '../../model/load.js';
import { factWarnings, forHost, warningJson } from '../../model/warnings.js';
import { toJson } from '../../model/serialise.js';
import { loadLayout } from '../../solver/layout.js';
import { type Command, EXIT, finish, listOption, parseCommandArgs, STRICT_HELP, STRICT_OPTION } from '../command.js';
import { loadHost } from '../inputs.js';

const help = `Usage: iova guest-map <layout.json> --host HOST [--host HOST …] [options]

The memory map to give a guest for a planned layout: the E820 table as the kernel prints it at
boot (BIOS-e820: [mem 0x…-0x…] usable|reserved), and the reserved ranges as ACPI motherboard
resources (a PNP0C02 device), so that the guest neither uses them as RAM nor puts a BAR there.
Reserved: every hole the kernel enforces on any of the hosts (MSI windows, the HyperTransport
hole, RMRRs of attached devices) and every placement that is not RAM; each with why.

With --check, compare what a booted guest reports — its boot log (dmesg with BIOS-e820 lines)
or its /proc/iomem (read as root) — with the plan, and list the differences.

Options:
  --host HOST      a host the guest may run on (repeat: the map reserves the holes of all)
  --ram A,B        the placements that are guest RAM (default: those whose name starts "ram")
  --acpi           print the PNP0C02 device (ASL) after the table
  --check FILE     compare a guest's boot log or /proc/iomem with the plan
  --json           print {"hosts","e820":[…],"acpi":{…},"warnings":[…]} (with --check also "check")
${STRICT_HELP}
  -h, --help       this text

Warnings (facts of the hosts that were skipped or assumed) go to standard error, or into
"warnings" with --json.

Exit codes: 0 written (or the guest matches the plan), 1 the guest differs from the plan,
2 bad input (including RAM over a reserved range: run iova verify), 5 with --strict when a 0
rests on warnings.`;

const command: Command = {
  name: 'guest-map',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('guest-map', argv, {
      host: { type: 'string', multiple: true },
      ram: { type: 'string', multiple: true },
      acpi: { type: 'boolean' },
      check: { type: 'string' },
      json: { type: 'boolean' },
      ...STRICT_OPTION,
    });
    if (positionals.length !== 1) throw new InputError('give exactly one layout file (see: iova guest-map --help)');
    const hostFiles = values.host ?? [];
    if (hostFiles.length === 0) throw new InputError('no host given: the guest map reserves the holes of the hosts it runs on (--host host.json, repeatable)');
    const layout = loadLayout(positionals[0]);
    const hosts = [];
    for (const file of hostFiles) hosts.push(await loadHost([file]));
    const map = guestMemoryMap(layout, hosts, ramPlacements(layout, listOption(values.ram)));
    let check: GuestMapCheck | undefined;
    if (values.check !== undefined) {
      check = checkGuestMap(map, parseGuestMap(readInputText(values.check), values.check));
    }
    const warnings = hosts.flatMap((h) => (hosts.length > 1 ? forHost(factWarnings(h), h.name) : factWarnings(h)));
    if (values.json) {
      io.out(toJson({ ...guestMapJson(map), ...(check ? { check: checkJson(check) } : {}), warnings: warnings.map(warningJson) }));
    } else {
      const out = [formatE820(map)];
      if (values.acpi) out.push('', formatAcpiReserved(map));
      if (!check) {
        out.push('', 'Reserved because:');
        for (const e of map.e820.filter((x) => x.type === 'reserved')) out.push(`  ${hex(e.start)}-${hex(e.last)}: ${e.reasons.join('; ')}`);
      }
      if (check) out.push('', checkText(check));
      io.out(out.join('\n'));
    }
    return finish(io, check && !check.ok ? EXIT.rejected : EXIT.ok, warnings, values);
  },
};

export default command;

function checkJson(check: GuestMapCheck) {
  return {
    ok: check.ok,
    differences: check.differences.map((d) => ({ kind: d.kind, start: hex(d.range.start), last: hex(d.range.last), message: d.message, ...(d.at ? { at: d.at } : {}) })),
    firmware: check.firmware.map((f) => ({ start: hex(f.range.start), last: hex(f.range.last), type: f.type, at: f.at })),
  };
}

function checkText(check: GuestMapCheck): string {
  const lines = [check.ok ? 'The guest matches the plan.' : `The guest differs from the plan (${check.differences.length} difference${check.differences.length === 1 ? '' : 's'}):`];
  for (const d of check.differences) lines.push(`  - ${d.at ? `${d.at.file}:${d.at.line}: ` : ''}${d.message}`);
  if (check.firmware.length > 0) {
    lines.push('Planned RAM the guest firmware took (expected):');
    for (const f of check.firmware) lines.push(`  - ${f.at.file}:${f.at.line}: ${hex(f.range.start)}-${hex(f.range.last)} ${f.type}`);
  }
  return lines.join('\n');
}
