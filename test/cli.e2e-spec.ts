import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT_DIR } from './support/app-process.js';

/** Runs the built operator CLI with a clean environment; resolves with its exit code and output. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT_DIR, 'dist', 'src', 'cli.js'), ...args], {
      cwd: ROOT_DIR,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('operator CLI', () => {
  let dataDir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'junction-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says a DATA_DIR holds no database instead of creating one', async () => {
    const { code, output } = await runCli(['tenant:api-key', randomUUID()], { DATA_DIR: dataDir, NODE_ENV: 'development' });
    expect(code).toBe(1);
    expect(output).toContain(`DATA_DIR ${dataDir} holds no database`);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(await readdir(dataDir)).toEqual([]);
  });
});
