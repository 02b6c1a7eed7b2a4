import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/command.js';
import { startElapsed } from '../../src/cli/elapsed.js';

function fakeIo(withProgress: boolean): { io: Io; drawn: string[] } {
  const drawn: string[] = [];
  return { io: { out() {}, err() {}, isTty: false, progress: withProgress ? (line) => drawn.push(line) : undefined }, drawn };
}

describe('startElapsed', () => {
  it('draws nothing in the first second, then the label, detail and seconds; clears on stop', () => {
    let now = 0;
    const { io, drawn } = fakeIo(true);
    const e = startElapsed(io, 'checking', { now: () => now, after: 1000 });
    now = 999;
    e.update('1/4 hosts');
    expect(drawn).toEqual([]);
    now = 1500;
    e.update('2/4 hosts');
    now = 1550; // within 100 ms of the last redraw: skipped
    e.update('3/4 hosts');
    now = 2345;
    e.update('4/4 hosts');
    e.stop();
    expect(drawn).toEqual(['checking 2/4 hosts … 1.5 s', 'checking 4/4 hosts … 2.3 s', '']);
  });

  it('does not clear a line it never drew, and is silent without a terminal', () => {
    let now = 0;
    const quick = fakeIo(true);
    const e = startElapsed(quick.io, 'solving', { now: () => now });
    now = 10;
    e.stop();
    expect(quick.drawn).toEqual([]);
    const piped = fakeIo(false);
    const p = startElapsed(piped.io, 'solving', { now: () => now, after: 0 });
    now = 5000;
    p.update('x');
    p.stop();
    expect(piped.drawn).toEqual([]);
  });
});
