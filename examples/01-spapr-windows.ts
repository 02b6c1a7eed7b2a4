/**
 * Example 1 — sPAPR DMA windows, negotiated in the request / ack-or-nack style.
 *
 * A pseries guest wants QEMU's default windows: a 32-bit window at 0..1 GiB and a 64-bit
 * window at 2^59. Userspace states each need; the answer is an ack with the placement the host
 * can honour, or a nack that says which host fact refuses it and what would be accepted.
 */
import { hexGrouped, parseHostFacts, requestWindow, type WindowAnswer } from '../src/index.js';
import type { Print } from './lib.js';
import { runIfMain } from './lib.js';

const POWER9 = parseHostFacts({ name: 'power9-phb', platform: { profile: 'spapr', window64Size: '2T' } });
const X86 = parseHostFacts({ name: 'x86-48bit', platform: { profile: 'intel-vtd', addressWidth: 48 } });

function say(print: Print, host: string, what: string, answer: WindowAnswer) {
  if (answer.ack) {
    print(`${host}: ${what}: ACK at ${hexGrouped(answer.placement.iova)}–${hexGrouped(answer.placement.last)}`);
  } else if ('conflicts' in answer) {
    print(`${host}: ${what}: NACK — ${answer.conflicts[0].message}`);
    for (const r of answer.repairs) print(`    would be accepted: ${r.description}`);
  } else {
    print(`${host}: ${what}: no answer (${answer.unknown})`);
  }
}

export async function main(print: Print) {
  const answers = [];
  for (const host of [POWER9, X86]) {
    const dma32 = await requestWindow(host, { name: 'dma32', size: 1n << 30n, base: 0n });
    const dma64 = await requestWindow(host, { name: 'dma64', size: 1n << 40n, base: 1n << 59n }, { existing: [{ start: 0n, last: (1n << 30n) - 1n, name: 'dma32' }] });
    say(print, host.name, '32-bit window of 1 GiB at 0', dma32);
    say(print, host.name, '64-bit window of 1 TiB at 2^59', dma64);
    answers.push(dma32, dma64);
  }
  // The 64-bit base left to the host: anywhere inside [1 GiB, 2^48), 1 TiB-aligned.
  const free = await requestWindow(X86, { name: 'dma64', size: 1n << 40n, align: 1n << 40n, within: { start: 1n << 30n, last: (1n << 48n) - 1n } }, { existing: [{ start: 0n, last: (1n << 30n) - 1n, name: 'dma32' }] });
  say(print, X86.name, '64-bit window of 1 TiB, base left free', free);
  answers.push(free);
  return answers;
}

await runIfMain(import.meta.url, main);
