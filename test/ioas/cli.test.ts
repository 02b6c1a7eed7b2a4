/**
 * `iova explain map|attach` through the CLI entry point: output, JSON shape, exit codes, and the
 * suggestion of a rejected map fed back in and accepted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

const dir = join(import.meta.dirname, 'fixtures');
const HOST = join(dir, 'amd-host.json');
const VM = join(dir, 'vm.json');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), isTty: false };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

// The lead engineer registers the command in src/cli/main.ts; until then there is nothing to run.
const registered = /^ {2}explain\s/m.test((await run('--help')).out);

describe.skipIf(!registered)('iova explain', () => {
  it('explains a fixed map over the HyperTransport hole, with its source and a suggestion', async () => {
    const { code, out } = await run('explain', 'map', HOST, '--iova', '0xfd00000000', '--length', '64K');
    expect(code).toBe(1);
    expect(out).toContain('REJECTED (-EINVAL)  fixed map at 0xfd_0000_0000 (iommufd, Linux 6.19)');
    expect(out).toContain('rule: reserved-overlap');
    expect(out).toContain('0xfd_0000_0000–0xff_ffff_ffff (12 GiB)');
    expect(out).toContain('IOMMU group 12');
    expect(out).toMatch(/Suggestion: Map at 0xfc_ffff_0000 instead/);
  });

  it('answers in JSON, and its suggestion is accepted when fed back', async () => {
    const { code, out } = await run('explain', 'map', HOST, '--iova', '0xfd00000000', '--length', '64K', '--json');
    expect(code).toBe(1);
    const json = JSON.parse(out);
    expect(json).toMatchObject({ accepted: false, errno: 'EINVAL', code: -22, rule: 'reserved-overlap' });
    expect(json.involved[0]).toMatchObject({ start: '0xfd00000000', last: '0xffffffffff', fact: 'hole', kind: 'reserved-region', type: 'reserved', owners: ['0000:41:00.0'] });
    expect(json.involved[0].provenance).toMatchObject({ group: 12, path: 'groups[0].reservedRegions[1]' });
    expect(json.blocking.start).toBe('0xfd00000000');
    const step = json.suggestion.steps[0];
    expect(step).toMatchObject({ op: 'map', fixed: true });
    const again = await run('explain', 'map', HOST, '--iova', step.iova, '--length', step.length, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ accepted: true, errno: null, code: 0, rule: null, iova: step.iova, suggestion: null });
  });

  it('accepts a free range and an automatic map, and reads a whole IOAS state', async () => {
    expect((await run('explain', 'map', HOST, '--iova', '0x200000000', '--length', '2M')).out).toContain('ACCEPTED');
    const overlap = await run('explain', 'map', VM, '--iova', '0x40000000', '--length', '1G');
    expect(overlap.code).toBe(1);
    expect(overlap.out).toContain('REJECTED (-EEXIST)');
    expect(overlap.out).toContain('mapping ram-low');
    const placed = await run('explain', 'map', VM, '--va', '0x7f1000200000', '--length', '2M', '--json');
    expect(placed.code).toBe(0);
    expect(JSON.parse(placed.out)).toMatchObject({ accepted: true, iova: '0x80000000', alignment: '0x200000' });
  });

  it('explains an attach refused because a reserved region is mapped', async () => {
    const { code, out } = await run('explain', 'attach', join(dir, 'doorbell-mapped.json'), '--device', '41:00.0');
    expect(code).toBe(1);
    expect(out).toContain('REJECTED (-EADDRINUSE)  attach 41:00.0 (iommufd, Linux 6.19)');
    expect(out).toContain('rule: reserved-mapped');
    expect(out).toContain('mapping doorbell');
    expect(out).toContain('1. unmap 0xfee0_0000–0xfee0_0fff (4 KiB)');
    expect(out).toContain('2. attach 0000:41:00.0');
  });

  it('models VFIO type1 on request', async () => {
    const { code, out } = await run('explain', 'map', HOST, '--iova', '0xfee00000', '--length', '4K', '--policy', 'vfio-type1', '--json');
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ errno: 'EINVAL', rule: 'reserved-overlap', involved: [{ type: 'msi' }] });
    const zero = await run('explain', 'map', HOST, '--iova', '0x1000', '--length', '0');
    expect(zero.code).toBe(1);
    expect(zero.out).toContain('length-zero');
  });

  it('names the kernel in JSON, answers for --kernel, and refuses versions it does not model', async () => {
    const json = JSON.parse((await run('explain', 'map', HOST, '--iova', '0x200000000', '--length', '2M', '--json')).out);
    expect(json.kernel).toBe('6.19');
    const old = await run('explain', 'map', HOST, '--iova', '0xfee00000', '--length', '4K', '--policy', 'vfio-type1', '--kernel', '5.3');
    // Before 5.4 type1 maps over the MSI window (no valid-IOVA list); the answer warns instead.
    expect(old.code).toBe(0);
    expect(old.out).toContain('(vfio-type1, Linux 5.3)');
    expect(old.out).toContain('from 5.4 on');
    const future = await run('explain', 'map', HOST, '--iova', '0x1000', '--length', '4K', '--kernel', '7.1');
    expect(future.code).toBe(2);
    expect(future.err).toMatch(/not modelled: Linux 7.1 is newer/);
  });

  it('takes --backing: a BAR (pfnmap) is EFAULT under iommufd with the dma-buf route suggested, and maps under type1', async () => {
    const bar = ['explain', 'map', HOST, '--iova', '0x200000000', '--length', '2M', '--va', '0x7f0000000000', '--backing', 'pfnmap'];
    const r = await run(...bar, '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ errno: 'EFAULT', rule: 'pfnmap-backing', blocking: { fact: 'backing' } });
    expect(json.suggestion.steps[0]).toMatchObject({ op: 'map', file: true, backing: 'dma-buf' });
    expect((await run(...bar, '--policy', 'vfio-type1')).code).toBe(0);
    expect((await run(...bar, '--backing', 'bar')).err).toMatch(/unknown --backing "bar"/);
  });

  it('reads raw sources like `iova ranges`, and says what frees a device with a direct region', async () => {
    const { code, out } = await run('explain', 'attach', join(dir, 'sources', 'reserved_regions.txt'), '--device', 'group:7');
    expect(code).toBe(1);
    expect(out).toContain('REJECTED (-EINVAL)  attach group:7');
    expect(out).toContain('rule: require-direct');
    expect(out).toMatch(/Suggestion: Free group:7 from the/);
  });

  it('takes --dma-entry-limit for a type1 container', async () => {
    const state = join(dir, 'vm.json');
    const r = await run('explain', 'map', state, '--iova', '0x200000000', '--length', '2M', '--policy', 'vfio-type1', '--dma-entry-limit', '2', '--json');
    expect(JSON.parse(r.out)).toMatchObject({ errno: 'ENOSPC', rule: 'entry-limit' });
    expect((await run('explain', 'map', state, '--iova', '0x200000000', '--length', '2M', '--dma-entry-limit', 'lots')).err).toMatch(/--dma-entry-limit must be a count/);
  });

  it.each([
    [['explain', 'map', HOST, '--iova', '0x1000'], /--length/],
    [['explain', 'map', HOST, '--length', '4K'], /--iova for a fixed map/],
    [['explain', 'map', join(dir, 'missing.json'), '--iova', '0', '--length', '4K'], /cannot read/],
    [['explain', 'map', join(dir, 'bad-replay.json'), '--iova', '0x1000', '--length', '4K'], /at mappings\[1\]: mapping ram-high .* cannot be replayed: -EINVAL reserved-overlap: .*IOMMU group 12/],
    [['explain', 'attach', HOST, '--device', '0000:99:00.0'], /not in host epyc/],
    [['explain', 'map', HOST, '--auto', '--length', '4K', '--policy', 'vfio-type1'], /no automatic IOVA placement/],
    [['explain', 'map', HOST, '--iova', '0x1000', '--length', '4K', '--policy', 'dma-iommu'], /iommufd or vfio-type1/],
    [['explain', 'unmap', HOST], /say what to explain/],
  ])('%j is bad input (exit 2)', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});
