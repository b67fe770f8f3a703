#!/usr/bin/env node
// Compiles src/**/*.ts and ormconfig.ts into dist/ with SWC (@swc/core), one file at a time, and only the
// files whose content changed since the last build: a manifest in dist/ records each source's hash. Nothing
// changed → nothing compiled (a few milliseconds). Outputs of deleted sources are removed. SWC does not
// type-check: `npm run check` (tsc) does, and CI runs it. The web console (console/, Vite) is rebuilt into
// dist/console only when a file under console/ (or the lockfile) changed.
//
//   node scripts/build.mjs            build what changed, saying what it does
//   node scripts/build.mjs --quiet    the same, printing only errors
//   node scripts/build.mjs --clean    delete dist/ first and compile everything
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'dist');
const MANIFEST = path.join(OUT_DIR, '.build-manifest.json');
const CONSOLE_DIR = path.join(ROOT, 'console');
const CONSOLE_CONFIG = path.join(CONSOLE_DIR, 'vite.config.ts');
const CONSOLE_OUTPUT = path.join(OUT_DIR, 'console', 'index.html');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const say = (message) => {
  if (!quiet) console.log(`[build] ${message}`);
};

// What tsconfig.json asks of tsc, in SWC's terms: ES modules for Node (the sources already write `.js`
// specifiers), ES2023, legacy decorators with design-time metadata (Nest's injection, class-validator and
// Swagger read it), class fields assigned in the constructor (useDefineForClassFields: false).
const swcOptions = {
  swcrc: false,
  configFile: false,
  sourceMaps: true,
  module: { type: 'es6', resolveFully: false },
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
    experimental: { keepImportAttributes: true },
  },
};

function sources() {
  const files = readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
  return [...files, 'ormconfig.ts'].map((file) => file.split(path.sep).join('/')).sort();
}

const sha1 = (data) => createHash('sha1').update(data).digest('hex');
const outputOf = (source) => path.join(OUT_DIR, source.replace(/\.ts$/, '.js'));

function readManifest() {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return null;
  }
}

/** One hash of every file under console/ (names and contents) and of the lockfile (Vite, Preact versions). */
function consoleHash() {
  const hash = createHash('sha1');
  const files = readdirSync(CONSOLE_DIR, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.parentPath.split(path.sep).includes('node_modules'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  for (const file of [...files, path.join(ROOT, 'package-lock.json')]) {
    if (!existsSync(file)) continue;
    hash.update(`${path.relative(ROOT, file)}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** Builds the web console with Vite when console/ changed; returns its hash (null without a console/). */
function buildConsole(previousHash) {
  if (!existsSync(CONSOLE_CONFIG)) return null;
  const current = consoleHash();
  if (current === previousHash && existsSync(CONSOLE_OUTPUT)) return current;
  say(`building the web console (console/) into dist/console with Vite…`);
  const require = createRequire(import.meta.url);
  const vite = path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', CONSOLE_CONFIG, '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[build] the web console failed to build (vite exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  return current;
}

function describe(files) {
  const shown = files.slice(0, 3).join(', ');
  return files.length > 3 ? `${shown} and ${files.length - 3} more` : shown;
}

async function main() {
  const started = performance.now();
  const require = createRequire(import.meta.url);
  const swcVersion = require('@swc/core/package.json').version;
  // A new compiler version, or a change to this script (its options), invalidates every output.
  const setup = sha1(`${swcVersion}\n${readFileSync(fileURLToPath(import.meta.url), 'utf8')}`);

  let previous = args.has('--clean') ? null : readManifest();
  let reason = args.has('--clean') ? '--clean' : previous ? '' : 'no previous build';
  if (previous && previous.setup !== setup) {
    previous = null;
    reason = 'the compiler or this script changed';
  }
  if (!previous && existsSync(OUT_DIR)) rmSync(OUT_DIR, { recursive: true, force: true });

  const files = sources();
  const hashes = Object.fromEntries(files.map((file) => [file, sha1(readFileSync(path.join(ROOT, file)))]));
  const changed = files.filter((file) => previous?.files?.[file] !== hashes[file] || !existsSync(outputOf(file)));
  const removed = Object.keys(previous?.files ?? {}).filter((file) => !(file in hashes));

  if (changed.length === 0 && removed.length === 0) {
    const consoleBefore = previous.console ?? null;
    const consoleAfter = buildConsole(consoleBefore);
    if (consoleAfter === consoleBefore) say(`dist/ is up to date with src/ (${files.length} files unchanged), nothing to compile`);
    else writeFileSync(MANIFEST, JSON.stringify({ ...previous, console: consoleAfter }, null, 1));
    return;
  }
  if (!previous) say(`compiling ${files.length} files into dist/ with SWC (${reason})…`);
  else if (changed.length) say(`compiling ${changed.length} changed file${changed.length === 1 ? '' : 's'} with SWC: ${describe(changed)}`);

  for (const file of removed) {
    rmSync(outputOf(file), { force: true });
    rmSync(`${outputOf(file)}.map`, { force: true });
  }
  if (removed.length) say(`removed the output of ${removed.length} deleted file${removed.length === 1 ? '' : 's'}: ${describe(removed)}`);

  const { transformFile } = await import('@swc/core');
  const failures = [];
  await Promise.all(
    changed.map(async (file) => {
      const output = outputOf(file);
      try {
        const { code, map } = await transformFile(path.join(ROOT, file), {
          ...swcOptions,
          filename: file,
          sourceFileName: path.relative(path.dirname(output), path.join(ROOT, file)).split(path.sep).join('/'),
        });
        mkdirSync(path.dirname(output), { recursive: true });
        writeFileSync(output, `${code}\n//# sourceMappingURL=${path.basename(output)}.map\n`);
        if (map) writeFileSync(`${output}.map`, map);
      } catch (error) {
        failures.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  if (failures.length) {
    // Keep the hashes of what did compile, so the next run retries only the failures.
    for (const failure of failures) delete hashes[failure.slice(0, failure.indexOf(':'))];
    writeFileSync(MANIFEST, JSON.stringify({ setup, files: hashes, console: previous?.console ?? null }, null, 1));
    console.error(`[build] ${failures.length} file${failures.length === 1 ? '' : 's'} failed to compile:\n${failures.join('\n')}`);
    process.exitCode = 1;
    return;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  // The server's hashes first: a console that fails to build does not make the next run recompile src/.
  writeFileSync(MANIFEST, JSON.stringify({ setup, files: hashes, console: previous?.console ?? null }, null, 1));
  const consoleAfter = buildConsole(previous?.console ?? null);
  writeFileSync(MANIFEST, JSON.stringify({ setup, files: hashes, console: consoleAfter }, null, 1));
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
