/**
 * Every input is read through one checked reader: FIFOs, devices, sockets and directories are
 * refused before a byte is read (a FIFO would block, /dev/zero would never end), and files
 * are read up to a size cap. Host paths inside specs and IOAS states go through it too.
 */
import { thrown } from '../thrown.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { importSources, readSysfsRoot } from '../../src/model/import/index.js';
import { parseIoasState } from '../../src/model/ioas-state.js';
import { loadHostFile, readInputBytes, readJsonFile } from '../../src/model/load.js';
import { hostToJson } from '../../src/model/serialise.js';
import { parsePlacementSpec } from '../../src/solver/spec.js';
import { iova } from '../cli/run.js';
import { assumptions } from './warned.js';

const dir = mkdtempSync(path.join(tmpdir(), 'iova-inputs-'));
const fifo = path.join(dir, 'pipe.json');
execFileSync('mkfifo', [fifo]);


describe('the checked reader', () => {
  it('refuses a FIFO without opening it for a blocking read', () => {
    // No writer ever opens the FIFO: a blocking open would hang this test until its timeout.
    expect(thrown(() => readInputBytes(fifo))).toMatchObject({ file: fifo, reason: 'cannot read: this is a FIFO (named pipe), not a file' });
    expect(thrown(() => importSources([fifo])).message).toMatch(/FIFO/);
    expect(thrown(() => loadHostFile(fifo)).file).toBe(fifo);
  });

  it('refuses character devices (/dev/zero never ends, /dev/null is not a file)', () => {
    expect(thrown(() => importSources(['/dev/zero'])).reason).toBe('cannot read: this is a character device, not a file');
    expect(thrown(() => readJsonFile('/dev/null')).message).toMatch(/character device/);
  });

  it('refuses a directory where a file is expected', () => {
    expect(thrown(() => loadHostFile(dir))).toMatchObject({ file: dir, reason: 'cannot read: this is a directory, not a file' });
  });

  it('refuses files above the cap, counting what is read (procfs and sysfs files report a size they do not have)', () => {
    const file = path.join(dir, 'hundred.txt');
    writeFileSync(file, 'x'.repeat(100));
    expect(readInputBytes(file, { maxBytes: 100 }).length).toBe(100);
    expect(thrown(() => readInputBytes(file, { maxBytes: 99 })).message).toMatch(/larger than 99 bytes/);
    // /proc/self/status reports size 0 but holds more than 10 bytes.
    expect(thrown(() => readInputBytes('/proc/self/status', { maxBytes: 10 })).message).toMatch(/larger than 10 bytes/);
    expect(readInputBytes('/proc/self/status').length).toBeGreaterThan(10);
  });

  it('a missing file names itself', () => {
    const missing = path.join(dir, 'missing.json');
    expect(thrown(() => loadHostFile(missing))).toMatchObject({ file: missing, reason: 'cannot read: ENOENT' });
  });

  it('host paths in specs and IOAS states are read the same way', () => {
    const spec = path.join(dir, 'spec.json');
    const requests = [{ name: 'ram', size: '1G' }];
    expect(thrown(() => parsePlacementSpec({ host: 'pipe.json', requests }, spec)).message).toMatch(/FIFO/);
    expect(thrown(() => parsePlacementSpec({ host: '/dev/zero', requests }, spec)).message).toMatch(/character device/);
    expect(thrown(() => parseIoasState({ host: 'pipe.json' }, path.join(dir, 'state.json'))).message).toMatch(/FIFO/);
  });

  it('a FIFO inside a sysfs tree is a warning on that file, not a hang', () => {
    const root = path.join(dir, 'root');
    const dev = path.join(root, 'sys/bus/pci/devices/0000:00:02.0');
    mkdirSync(dev, { recursive: true });
    writeFileSync(path.join(dev, 'class'), '0x030000\n');
    execFileSync('mkfifo', [path.join(dev, 'resource')]);
    const host = readSysfsRoot(root);
    const warning = host.warnings.find((w) => w.file === path.join(dev, 'resource'))!;
    expect(warning).toMatchObject({ line: 0, kind: 'unreadable', message: 'cannot read: this is a FIFO (named pipe), not a file' });
  });

  it('the command exits 2 with the file named', async () => {
    const run = await iova('import', '/dev/zero');
    expect(run.code).toBe(2);
    expect(run.err).toContain('/dev/zero: cannot read: this is a character device, not a file');
    const pipe = await iova('ranges', fifo);
    expect(pipe.code).toBe(2);
    expect(pipe.err).toContain(`${fifo}: cannot read: this is a FIFO`);
  });
});

describe('host files without IOMMU facts', () => {
  it('a host file with neither platform nor geometry gets a warning; one with a platform does not', () => {
    const bare = path.join(dir, 'bare.json');
    writeFileSync(bare, JSON.stringify({ name: 'bare', devices: [{ id: '0000:01:00.0' }] }));
    const warned = assumptions(loadHostFile(bare));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ file: bare, line: 0, kind: 'assumption' });
    expect(warned[0].message).toMatch(/^no IOMMU facts .*whole 64-bit space with 4 KiB pages/);

    const intel = path.join(dir, 'intel.json');
    writeFileSync(intel, JSON.stringify({ name: 'intel', platform: { profile: 'intel-vtd', addressWidth: 39 } }));
    expect(loadHostFile(intel).warnings).toEqual([]);
  });

  it('an imported host that already says so is not warned twice', () => {
    const rr = path.join(dir, 'rr.txt');
    writeFileSync(rr, '0x00000000fee00000 0x00000000feefffff msi\n');
    const host = importSources([rr]);
    expect(assumptions(host).filter((w) => w.message.startsWith('no IOMMU facts'))).toHaveLength(1);
    const json = path.join(dir, 'imported.json');
    writeFileSync(json, hostToJson(host));
    expect(assumptions(loadHostFile(json))).toEqual(assumptions(host));
  });
});
