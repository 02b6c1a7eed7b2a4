// Builds bench/kernel/harness.c against the distribution's drivers/iommu/iova.c and
// lib/rbtree.c (from the kernel source package, installed on demand with apt-get) and the
// project's shim headers. Only the kernel files the build needs are extracted, into a temporary
// directory outside the repository; nothing of the kernel's is committed.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SRC_DIR = '/usr/src';
/** Kernel files the build uses: the allocator, the tree, and the four headers they share. */
const KERNEL_FILES = ['drivers/iommu/iova.c', 'lib/rbtree.c', 'include/linux/iova.h', 'include/linux/rbtree.h', 'include/linux/rbtree_augmented.h', 'include/linux/rbtree_types.h'];

export type Built = { ok: true; path: string; version: string } | { ok: false; reason: string };

export interface KernelFigure {
  workload: string;
  [key: string]: string | number;
}

function findTarball(): string | undefined {
  if (!existsSync(SRC_DIR)) return undefined;
  const names = readdirSync(SRC_DIR).filter((f) => /^linux-source-[\d.]+\.tar\.(xz|bz2|gz)$/.test(f)).sort();
  return names.length ? join(SRC_DIR, names[names.length - 1]) : undefined;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs the distribution's kernel source package (Debian/Ubuntu, as root) unless told not to. */
function install(note: (line: string) => void): string | undefined {
  if (process.env.IOVA_BENCH_NO_INSTALL) return 'IOVA_BENCH_NO_INSTALL is set';
  if (!has('apt-get')) return 'no apt-get (install your distribution\'s kernel source package into /usr/src by hand)';
  if (process.getuid?.() !== 0) return 'not root: run `apt-get install linux-source` first';
  note('installing the kernel source package with apt-get (once)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'linux-source'], { stdio: 'ignore', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
    const again = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'linux-source'], { stdio: 'ignore', env });
    if (again.status !== 0) return 'apt-get install linux-source failed (no network or no such package)';
  }
  return undefined;
}

export async function buildKernelHarness(note: (line: string) => void): Promise<Built> {
  if (!has('cc')) return skip(note, 'no C compiler (cc)');
  let tarball = findTarball();
  if (tarball === undefined) {
    const why = install(note);
    tarball = findTarball();
    if (tarball === undefined) return skip(note, why ?? 'no /usr/src/linux-source-*.tar.* after installing');
  }
  const version = /linux-source-(\d+(?:\.\d+)*)/.exec(tarball)?.[1] ?? 'unknown';
  const work = join(tmpdir(), 'iova-kernel-bench', version);
  const top = `linux-source-${version}`;
  const kernel = join(work, top);
  if (!KERNEL_FILES.every((f) => existsSync(join(kernel, f)))) {
    mkdirSync(work, { recursive: true });
    const r = spawnSync('tar', ['-xf', tarball, '-C', work, ...KERNEL_FILES.map((f) => `${top}/${f}`)], { stdio: 'ignore' });
    if (r.status !== 0) return skip(note, `could not extract ${KERNEL_FILES.join(', ')} from ${tarball}`);
  }
  // The kernel's own headers go in a directory of their own, after the shim's.
  const kinc = join(work, 'kinc', 'linux');
  mkdirSync(kinc, { recursive: true });
  for (const f of KERNEL_FILES.filter((f) => f.startsWith('include/'))) copyFileSync(join(kernel, f), join(kinc, f.slice('include/linux/'.length)));
  const out = join(work, 'harness');
  try {
    execFileSync('cc', ['-O2', '-w', '-I', join(here, 'shim'), '-I', join(work, 'kinc'), '-o', out, join(kernel, 'drivers/iommu/iova.c'), join(kernel, 'lib/rbtree.c'), join(here, 'harness.c')], { stdio: 'pipe' });
  } catch (e) {
    return skip(note, `the C build failed: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(0, 500)}`);
  }
  note(`built drivers/iommu/iova.c of linux-source-${version} with the project's shim (cc -O2) in ${work}`);
  return { ok: true, path: out, version };
}

function skip(note: (line: string) => void, reason: string): Built {
  note(`kernel C side skipped: ${reason}`);
  return { ok: false, reason };
}

/** Runs the harness; its figures by workload name. */
export function runKernelHarness(path: string, pairs: number, runs: number): Map<string, KernelFigure> {
  const out = execFileSync(path, [String(pairs), String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const figures = new Map<string, KernelFigure>();
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    const f = JSON.parse(line) as KernelFigure;
    figures.set(f.workload, f);
  }
  return figures;
}
