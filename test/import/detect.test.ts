import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKind, detectKinds } from '../../src/model/import/index.js';
import { realdataDir, realdataFiles } from './helpers.js';

const PREFIX_KIND: Record<string, string> = { rr: 'reserved-regions', lspci: 'lspci', iomem: 'iomem', dmesg: 'dmesg', groups: 'groups' };
const read = (name: string) => readFileSync(path.join(realdataDir, name), 'utf8');

describe('kind detection', () => {
  it.each(realdataFiles())('%s: the primary kind matches what the file holds', (name) => {
    expect(detectKind(read(name))).toBe(PREFIX_KIND[name.split('-')[0]]);
  });

  it('files holding several kinds list all of them', () => {
    expect(detectKinds(read('rr-arm64-huawei-centos7-smmu-pci-windows.txt'))).toEqual(['reserved-regions', 'groups', 'dmesg']);
    expect(detectKinds(read('rr-intel-hp-dl388g8-x79-rmrr.txt'))).toEqual(['reserved-regions', 'lspci', 'dmesg', 'groups']);
    expect(detectKinds(read('rr-arm64-hisilicon-estuary-iort-rmr-megaraid.txt'))).toEqual(['reserved-regions', 'dmesg']);
    // a log with a few group assignments among many AMD-Vi lines is a log first
    expect(detectKinds(read('dmesg-amd-epyc-4iommu-amdvi.txt'))).toEqual(['dmesg', 'groups']);
    // a log that is mostly group assignments is a group listing first
    expect(detectKinds(read('groups-amd-desktop-systemd-33412.txt'))).toEqual(['groups', 'dmesg']);
  });

  it('snippets', () => {
    expect(detectKind('0x00000000fee00000 0x00000000feefffff msi\n')).toBe('reserved-regions');
    expect(detectKind('00:02.0 VGA compatible controller: Intel\n\tRegion 0: Memory at f0000000 (64-bit, non-prefetchable) [size=16M]\n')).toBe('lspci');
    expect(detectKind('00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n')).toBe('iomem');
    expect(detectKind('[    0.1] DMAR: Host address width 39\n')).toBe('dmesg');
    expect(detectKind('IOMMU Group 1 00:01.0 PCI bridge: x\n')).toBe('groups');
    expect(detectKind('hello world\n')).toBe('unknown');
    expect(detectKind('')).toBe('unknown');
  });
});
