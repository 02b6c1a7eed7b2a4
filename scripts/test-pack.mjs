#!/usr/bin/env node
/**
 * The packed package works on its own (`npm run test:pack`; .ci/run runs it):
 *
 * 1. `npm pack` (prepack builds dist/ afresh) and the tarball holds what package.json names and
 *    nothing else: dist/ built from every src/ module and only those, the sources its maps point
 *    at, the JSON schemas, README and LICENSE; no tests, examples or generated output.
 * 2. The tarball installs into an empty project with no network: the project gets a lockfile
 *    made of the repository's entries for the package's dependencies, so `npm ci --offline`
 *    takes them from the npm cache that `npm ci` filled here.
 * 3. From there the README's library snippets run, the public entry points resolve (importers,
 *    `iova-solver/package.json`, `iova-solver/schemas/*`), internals do not, and `iova` answers
 *    `--help`, `ranges` and a `solve` that needs the Z3 worker thread of the built package.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'iova-pack-'));
const keep = process.argv.includes('--keep');
let failures = 0;

function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n     ${detail.trim().split('\n').join('\n     ')}` : ''}`);
  if (!ok) failures++;
  return ok;
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'));
}

try {
  // 1. Pack, and look at what is in the tarball.
  const packed = run('npm', ['pack', '--json', '--pack-destination', work], root);
  if (!check(packed.code === 0, 'npm pack', packed.err)) process.exit(1);
  const [info] = JSON.parse(packed.out.slice(packed.out.indexOf('[')));
  const tarball = join(work, info.filename);
  const listed = info.files.map((f) => f.path).sort();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  const required = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', pkg.bin.iova.replace(/^\.\//, ''), 'dist/solver/z3/worker.js'];
  for (const kind of ['host', 'spec', 'layout', 'ioas']) required.push(`schemas/${kind}.schema.json`);
  const missing = required.filter((f) => !listed.includes(f));
  check(missing.length === 0, 'the tarball holds the entry points, the command, the worker, the schemas, README and LICENSE', `missing: ${missing.join(', ')}`);
  const allowed = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|js\.map|d\.ts|d\.ts\.map)|src\/.+\.ts|schemas\/[a-z]+\.schema\.json)$/;
  const stray = listed.filter((f) => !allowed.test(f));
  check(stray.length === 0, 'and nothing else (no tests, examples, generated output)', `unexpected: ${stray.slice(0, 20).join(', ')}`);

  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['-xzf', tarball, '-C', unpacked], work);
  const pkgDir = join(unpacked, 'package');
  const shipped = new Set(filesUnder(pkgDir));
  const srcModules = [...shipped].filter((f) => f.startsWith('src/') && f.endsWith('.ts')).map((f) => f.slice(4, -3));
  const distModules = [...shipped].filter((f) => f.startsWith('dist/') && f.endsWith('.js')).map((f) => f.slice(5, -3));
  const stale = distModules.filter((m) => !srcModules.includes(m));
  const unbuilt = srcModules.filter((m) => !distModules.includes(m));
  check(stale.length === 0 && unbuilt.length === 0, 'dist/ is built from exactly the shipped src/ modules', `stale in dist: ${stale.join(', ')}; not built: ${unbuilt.join(', ')}`);
  const badMaps = [];
  const maps = [...shipped].filter((f) => f.endsWith('.map'));
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(join(pkgDir, map), 'utf8'));
    for (const source of sources) {
      const target = relative(pkgDir, resolve(dirname(join(pkgDir, map)), source)).split('\\').join('/');
      if (!shipped.has(target)) badMaps.push(`${map} -> ${source}`);
    }
  }
  check(maps.length > 0 && badMaps.length === 0, `every source map (${maps.length}) points at a shipped source`, badMaps.slice(0, 10).join('\n'));
  check(!('prepare' in pkg.scripts) && !('postinstall' in pkg.scripts), 'installing runs no build (prepack, not prepare)');

  // 2. An empty project, installed offline.
  const project = join(work, 'project');
  mkdirSync(project);
  const tgz = `file:../${info.filename}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module', dependencies: { [pkg.name]: tgz } }, null, 2));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const packages = {
    '': { name: 'pack-check', dependencies: { [pkg.name]: tgz } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: tgz,
      integrity: info.integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  const queue = Object.keys(pkg.dependencies);
  while (queue.length > 0) {
    const name = queue.shift();
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const entry = lock.packages[key];
    if (!check(entry !== undefined, `the repository's lockfile has ${name}`)) continue;
    const { dev, devOptional, ...rest } = entry;
    packages[key] = rest;
    for (const [nested, value] of Object.entries(lock.packages)) {
      if (nested.startsWith(`${key}/node_modules/`)) packages[nested] = value;
    }
    queue.push(...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }));
  }
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'pack-check', lockfileVersion: 3, requires: true, packages }, null, 2));
  const install = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project);
  if (!check(install.code === 0, 'the tarball installs into an empty project with no network (npm ci --offline)', `${install.err}\n(the dependencies come from the npm cache: run npm ci in the repository first)`)) {
    process.exit(1);
  }
  const installed = join(project, 'node_modules', pkg.name);
  check(!existsSync(join(installed, 'node_modules')) || readdirSync(join(installed, 'node_modules')).length === 0, 'the dependencies install beside the package, nothing bundled');

  // The example hosts the README snippets read.
  for (const dir of ['examples/hosts', 'examples/fleet', 'examples/specs']) cpSync(join(root, dir), join(project, dir), { recursive: true });

  // 3a. The README's library snippets, as a user would paste them.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library API'), readme.indexOf('## Examples'));
  const snippets = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  check(snippets.length >= 6, `the README has library snippets (${snippets.length})`);
  for (const [i, code] of snippets.entries()) {
    const file = join(project, `snippet-${i}.mjs`);
    writeFileSync(file, code);
    const r = run(process.execPath, [file], project);
    check(r.code === 0 && r.out.trim() !== '', `README snippet ${i + 1} runs and prints (${code.split('\n')[0]})`, `exit ${r.code}\n${r.err}${r.out}`);
  }

  // 3b. Entry points.
  writeFileSync(
    join(project, 'entry.mjs'),
    `import { createRequire } from 'node:module';
import * as api from '${pkg.name}';
const require = createRequire(import.meta.url);
const out = {};
out.importers = ['importSources', 'importText', 'readSysfsRoot'].filter((n) => typeof api[n] !== 'function');
out.version = require('${pkg.name}/package.json').version;
out.schemas = ['host', 'spec', 'layout', 'ioas'].filter((k) => require('${pkg.name}/schemas/' + k + '.schema.json').$schema === undefined);
try { await import('${pkg.name}/dist/model/host.js'); out.internal = 'reachable'; } catch (e) { out.internal = e.code; }
console.log(JSON.stringify(out));
`,
  );
  const entry = run(process.execPath, [join(project, 'entry.mjs')], project);
  let seen = {};
  try {
    seen = JSON.parse(entry.out);
  } catch {
    check(false, 'entry points', `${entry.err}${entry.out}`);
  }
  check(Array.isArray(seen.importers) && seen.importers.length === 0, 'the importers are exported (importSources, importText, readSysfsRoot)', `missing: ${seen.importers}`);
  check(seen.version === pkg.version, "'iova-solver/package.json' resolves");
  check(Array.isArray(seen.schemas) && seen.schemas.length === 0, "'iova-solver/schemas/<kind>.schema.json' resolve to JSON Schemas", `not schemas: ${seen.schemas}`);
  check(seen.internal === 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'internal modules are not reachable by path', `got ${seen.internal}`);

  // 3c. The command.
  const iova = join(project, 'node_modules', '.bin', process.platform === 'win32' ? 'iova.cmd' : 'iova');
  const help = run(iova, ['--help'], project);
  check(help.code === 0 && /\bsolve\b/.test(help.out) && /\branges\b/.test(help.out), 'iova --help', `exit ${help.code}\n${help.err}${help.out}`);
  const ranges = run(iova, ['ranges', 'examples/hosts/epyc.json', '--devices', '0000:43:00.0', '--json'], project);
  let usable = [];
  try {
    usable = JSON.parse(ranges.out).ranges ?? [];
  } catch {
    /* reported below */
  }
  check(ranges.code === 0 && usable.length > 0, 'iova ranges examples/hosts/epyc.json --devices 0000:43:00.0 --json', `exit ${ranges.code}\n${ranges.err}${ranges.out.slice(0, 400)}`);
  const solve = run(iova, ['solve', 'examples/specs/q35-guest.json', '--json'], project);
  let status;
  try {
    status = JSON.parse(solve.out).status;
  } catch {
    /* reported below */
  }
  check(solve.code <= 1 && (status === 'sat' || status === 'unsat'), `iova solve examples/specs/q35-guest.json --json (Z3 in the built worker): ${status}`, `exit ${solve.code}\n${solve.err}${solve.out.slice(0, 400)}`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('the packed package works on its own');
