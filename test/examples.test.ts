/**
 * Every example runs, and prints what its comment promises (checked against facts of the
 * bundled host files, not against pasted output).
 */
import { describe, expect, it } from 'vitest';

async function run(file: string): Promise<{ lines: string[]; value: unknown }> {
  const mod = (await import(`../examples/${file}`)) as { main: (print: (l: string) => void) => Promise<unknown> };
  const lines: string[] = [];
  const value = await mod.main((l) => lines.push(l));
  return { lines, value };
}

describe('examples', () => {
  it('1: sPAPR windows — acked on the POWER host, the 64-bit one nacked on a 48-bit host', async () => {
    const { lines } = await run('01-spapr-windows.ts');
    expect(lines[0]).toBe('power9-phb: 32-bit window of 1 GiB at 0: ACK at 0x0–0x3fff_ffff');
    expect(lines[1]).toBe('power9-phb: 64-bit window of 1 TiB at 2^59: ACK at 0x800_0000_0000_0000–0x800_00ff_ffff_ffff');
    expect(lines[2]).toBe('x86-48bit: 32-bit window of 1 GiB at 0: ACK at 0x0–0x3fff_ffff');
    expect(lines[3]).toMatch(/^x86-48bit: 64-bit window of 1 TiB at 2\^59: NACK — .*outside every aperture window: 0x0–0xffff_ffff_ffff \(48-bit aperture/);
    // Left free and 1 TiB-aligned, the first base clear of the 32-bit window is 1 TiB.
    expect(lines.at(-1)).toBe('x86-48bit: 64-bit window of 1 TiB, base left free: ACK at 0x100_0000_0000–0x1ff_ffff_ffff');
  });

  it('3: the fleet — the ARM host fails on the SW MSI window, the 36-bit host on its aperture', async () => {
    const { lines } = await run('03-migratable-layout.ts');
    expect(lines[0]).toBe('layout accepted by 3 of 5 hosts: amd-epyc-milan, intel-icelake-48, intel-sapphirerapids-52');
    expect(lines).toContain('arm-n1sdp cannot take the guest:');
    expect(lines.join('\n')).toMatch(/`ram-below-4g` \(2 GiB at 0x0\) overlaps the software MSI window 0x800_0000–0x80f_ffff/);
    expect(lines.join('\n')).toMatch(/`ram-above-4g` \(126 GiB at 0x1_0000_0000\) is not inside an aperture window \(0x0–0xf_ffff_ffff\): 36-bit aperture/);
  });

  it('4: hot-plug — a device with a direct region is refused (require_direct, -EINVAL) whatever the layout; the fix is in the firmware', async () => {
    const { lines } = await run('04-hotplug.ts');
    expect(lines[1]).toBe('  ram-low   0x0–0xafff_ffff');
    expect(lines[3]).toMatch(/^ {2}hot-plug 0000:05:00.3: refused \(-EINVAL, require-direct\): .*direct region 0xa8f0_0000–0xa8ff_ffff \(1 MiB\) of IOMMU group 5/);
    expect(lines[4]).toMatch(/collision: `ram-low` \(2816 MiB at 0x0\) overlaps the direct-mapped \(identity\) region 0xa8f0_0000–0xa8ff_ffff/);
    expect(lines[5]).toMatch(/fix: Free 0000:05:00.3 from the IVMD entry in the ACPI IVRS table/);
    // With the device's holes known up front the collision is gone; the claim is still refused.
    const second = lines.slice(lines.findIndex((l) => l.includes('+ 0000:05:00.3 attached')));
    expect(second.some((l) => l.includes('collision'))).toBe(false);
    expect(second.at(-2)).toMatch(/refused \(-EINVAL, require-direct\)/);
  });

  it('5: peer-to-peer — the GPU BAR is a hole for the NIC without ACS redirect, and not with it', async () => {
    const { lines } = await run('05-peer-to-peer.ts');
    expect(lines[0]).toBe('epyc: 6 peer-to-peer holes for 0000:43:00.0');
    expect(lines.join('\n')).toMatch(/rx-buffers at 0xb900_0000 for the NIC: unsat — .*BAR0 of peer 0000:44:00.0, reached from 0000:43:00.0 through port 0000:42:08.0/);
    expect(lines).toContain('epyc-acs: 0 peer-to-peer holes for 0000:43:00.0');
    expect(lines.at(-1)).toBe('  rx-buffers at 0xb900_0000 for the NIC: sat');
  });

  it('6: big AMD guest — the HyperTransport hole, and the layout moved above it', async () => {
    const { lines } = await run('06-amd-big-guest.ts');
    expect(lines[0]).toBe('q35 guest with 1 TiB on amd-epyc-milan: unsat');
    expect(lines[1]).toMatch(/overlaps the reserved range 0xfd_0000_0000–0xff_ffff_ffff \(12 GiB\): reserved region of IOMMU group 30/);
    expect(lines).toContain('    - move `ram-above-4g` from 0x1_0000_0000 to 0x100_0000_0000');
    // Everything from 4 GiB up to the hole: 0xfd_0000_0000 - 0x1_0000_0000 = 1008 GiB.
    expect(lines).toContain('    - shrink `ram-above-4g` by 14 GiB to 1008 GiB, keeping it at 0x1_0000_0000');
    expect(lines.at(-1)).toBe('verified on amd-epyc-milan: accepted');
  });

  it('7: arm64 — the SW MSI window, and RAM moved to 1 GiB', async () => {
    const { lines } = await run('07-arm64-msi-window.ts');
    expect(lines[1]).toMatch(/overlaps the software MSI window 0x800_0000–0x80f_ffff \(1 MiB\): reserved region of IOMMU group 3/);
    expect(lines[2]).toBe('  repair: move `guest-ram` from 0x0 to 0x4000_0000 (guest-ram at 0x4000_0000–0x1_3fff_ffff)');
  });

  it('2: kernel-managed space — a 32-bit NIC fills 4 GiB around the holes, the GPU then switches above for good', async () => {
    const { lines } = await run('02-kernel-managed-space.ts');
    expect(lines).toContain('  reserved 0xfee0_0000–0xfeef_ffff  msi, from examples/hosts/epyc/reserved_regions.txt:4');
    expect(lines).toContain('  reserved 0xb800_0000–0xc5ff_ffff  host-bridge-window, from examples/hosts/epyc/dmesg.txt:4');
    // Top-down from 4 GiB; the 2 MiB slot holding the MSI window and the host-bridge window are skipped.
    expect(lines).toContain('  first 0xffe0_0000, 0xffc0_0000, 0xffa0_0000');
    expect(lines).toContain('  at the MSI window: 0xff00_0000, then 0xfec0_0000');
    expect(lines).toContain('  at the host-bridge window: 0xc600_0000, then 0xb7e0_0000');
    // 2048 slots of 2 MiB below 4 GiB, minus 112 for the 224 MiB window, 1 for MSI, 1 for page 0.
    expect(lines).toContain('  1934 pools (3868 MiB) below 4 GiB, 0 of them in a hole; the next map fails');
    // 40-bit limit 0xff_ffff_ffff; the HyperTransport hole takes 0xfd_0000_0000 up.
    expect(lines.join('\n')).toMatch(/GPU 0000:44:00.0 with a 40-bit DMA mask: 0xfc_ffe0_0000 /);
    expect(lines).toContain('  kernel notice: 0000:44:00.0: Using 40-bit DMA addresses');
    expect(lines.join('\n')).toMatch(/the GPU maps 0xfc_ffc0_0000 .*the NIC maps 0xff00_0000/);
    expect(lines.join('\n')).toMatch(/gets IOVA 0xffff_f780 /);
  });
});
