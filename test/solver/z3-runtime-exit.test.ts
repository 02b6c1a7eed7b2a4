// "A process that used Z3 must exit on its own": a child process imports the runtime (which must
// start nothing), runs one job and returns; it must then exit with code 0 — with idle workers
// left behind, and after an explicit shutdownZ3().
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/z3-exit-child.ts', import.meta.url));
const LIMIT_MS = 30_000; // generous: a correctness check, not a benchmark

function run(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => proc.kill('SIGKILL'), LIMIT_MS);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('a process that used the Z3 runtime', () => {
  it.each([
    ['returns without cleanup', []],
    ['calls shutdownZ3()', ['shutdown']],
  ])('exits on its own when it %s', async (_what, args) => {
    const result = await run(args);
    expect(result.signal, `killed after ${LIMIT_MS} ms: did not exit on its own\n${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    // Importing the runtime started nothing, and Z3 never loaded on the main thread.
    expect(report.before).toEqual({ stats: expect.objectContaining({ workers: 0, spawned: 0 }), z3Loaded: false });
    expect(report.z3LoadedInMain).toBe(false);
    expect(report.outcome).toEqual({ status: 'done', result: { status: 'unsat', core: ['hi', 'lo'] } });
    expect(report.after).toMatchObject({ spawned: 1, workers: args.length > 0 ? 0 : 1 });
  }, 40_000);
});
