// The published package's build (`npm run build`; `npm pack` runs it as prepack): the library's
// TypeScript compiled to dist/ with declarations (tsconfig.build.json), and the files the code
// reads at run time beside its own modules, at the same relative places as in the checkout.
// The checkout itself never needs dist/: bin/ and the tests run the sources through tsx.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
} catch {
  console.error('build-dist: tsc reported errors (above); the package is not built');
  process.exit(1);
}

// Read at run time through `new URL('./…', import.meta.url)` (prompt and judge templates, the
// embedded catalog, the model manifest, the training worker and the reference Python trainer).
const ASSETS = [
  'mechanism/templates',
  'simulation/templates',
  'data/catalog.jsonl',
  'data/NOTICE.md',
  'data/gem-bench-LICENSE',
  'models/manifest.json',
  'training/parallel-worker.mjs',
  'training/python',
];
for (const a of ASSETS) {
  if (!existsSync(join(root, a))) throw new Error(`build-dist: ${a} is missing`);
  cpSync(join(root, a), join(dist, a), { recursive: true });
}

// Declarations keep the sources' `./x.ts` specifiers; a consumer's compiler resolves `./x.js`.
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}
for (const f of files(dist)) {
  if (!f.endsWith('.d.ts')) continue;
  const text = readFileSync(f, 'utf8');
  const fixed = text.replace(/((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
  if (fixed !== text) writeFileSync(f, fixed);
}

// cli/main.ts and cli/versions.ts read the version from '../package.json', i.e. dist/package.json.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ name: `${pkg.name}-dist`, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`);
console.error(`build-dist: ${pkg.name} ${pkg.version} compiled to dist/`);
