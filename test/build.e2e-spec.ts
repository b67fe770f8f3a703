import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_DIR } from './support/app-process.js';

/**
 * scripts/build.mjs (what npm start, npm test and npm run build run) on a copy of the project in a temp
 * folder, so the real dist/ that other test files run is never touched.
 */

const run = promisify(execFile);

describe('the incremental build (scripts/build.mjs)', () => {
  let project: string;
  const build = async (...args: string[]): Promise<string> => {
    const { stdout, stderr } = await run(process.execPath, [path.join(project, 'scripts', 'build.mjs'), ...args], { cwd: project });
    return stdout + stderr;
  };
  const output = (file: string) => path.join(project, 'dist', file);

  beforeAll(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'junction-build-'));
    for (const entry of ['scripts', 'src', 'ormconfig.ts', 'package.json']) await cp(path.join(ROOT_DIR, entry), path.join(project, entry), { recursive: true });
    await symlink(path.join(ROOT_DIR, 'node_modules'), path.join(project, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('compiles every source on the first run, then nothing while nothing changed', async () => {
    const first = await build();
    expect(first).toMatch(/\[build\] compiling \d+ files into dist\/ with SWC/);
    expect(existsSync(output('src/main.js'))).toBe(true);
    expect(existsSync(output('ormconfig.js'))).toBe(true);
    expect(existsSync(output('src/main.js.map'))).toBe(true);
    // Specs are not part of the app.
    expect(existsSync(output('src/config/app.config.spec.js'))).toBe(false);
    const mainBuiltAt = (await stat(output('src/main.js'))).mtimeMs;

    const second = await build();
    expect(second).toMatch(/^\[build\] dist\/ is up to date with src\/ \(\d+ files unchanged\), nothing to compile\n$/);
    expect((await stat(output('src/main.js'))).mtimeMs).toBe(mainBuiltAt);
  });

  it('recompiles only the file whose content changed', async () => {
    const source = path.join(project, 'src', 'logging.ts');
    await writeFile(source, `${await readFile(source, 'utf8')}\nexport const BUILD_TEST_MARKER = 'changed';\n`);
    const mainBuiltAt = (await stat(output('src/main.js'))).mtimeMs;

    const result = await build();
    expect(result).toContain('[build] compiling 1 changed file with SWC: src/logging.ts');
    expect(await readFile(output('src/logging.js'), 'utf8')).toContain('BUILD_TEST_MARKER');
    expect((await stat(output('src/main.js'))).mtimeMs).toBe(mainBuiltAt);
  });

  it('removes the output of a deleted source', async () => {
    await writeFile(path.join(project, 'src', 'build-test-extra.ts'), 'export const extra = 1;\n');
    expect(await build()).toContain('compiling 1 changed file with SWC: src/build-test-extra.ts');
    expect(existsSync(output('src/build-test-extra.js'))).toBe(true);

    await rm(path.join(project, 'src', 'build-test-extra.ts'));
    expect(await build()).toContain('removed the output of 1 deleted file: src/build-test-extra.ts');
    expect(existsSync(output('src/build-test-extra.js'))).toBe(false);
    expect(existsSync(output('src/build-test-extra.js.map'))).toBe(false);
  });

  it('fails, naming the file, on a syntax error, and compiles it once it is fixed', async () => {
    const source = path.join(project, 'src', 'build-test-broken.ts');
    await writeFile(source, 'export const broken = ;\n');
    const failed = await build().then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('src/build-test-broken.ts');

    await writeFile(source, 'export const broken = 2;\n');
    expect(await build()).toContain('compiling 1 changed file with SWC: src/build-test-broken.ts');
    await rm(source);
  });

  it('--clean compiles everything again', async () => {
    expect(await build('--clean')).toMatch(/compiling \d+ files into dist\/ with SWC/);
  });
});
