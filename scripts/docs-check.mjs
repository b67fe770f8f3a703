#!/usr/bin/env node
// npm run docs:check: runs every ```bash block of README.md and docs/*.md, in order, against a fresh server,
// the way a new user would, and fails with the file, the block and its output when a command fails.
//
// - The server is the built app (`node dist/src/main.js`, run `npm run build` first) on a fresh database: a
//   new database on the PostgreSQL server of DATABASE_URL (created here, dropped after), or without
//   DATABASE_URL the embedded PostgreSQL in a temporary DATA_DIR.
// - Each file runs in one bash session (`set -euo pipefail`), so variables such as TOKEN carry from block to
//   block as in a reader's shell. Files run in this order: README.md, then docs/webhooks.md, then the other
//   docs alphabetically; each may rely on what README.md's quick start created (the server keeps running).
// - The docs say localhost:8001 (the server) and localhost:3000 (`npm run receiver`); both are rewritten to
//   free ports on 127.0.0.1 here, so the check runs beside a server a developer already has.
// - A block preceded by `<!-- docs-check: skip (reason) -->` is not run; the reason is required.
// - A curl answered with a 4xx fails its block (a 5xx always does), unless the block is preceded by
//   `<!-- docs-check: expect-errors (reason) -->` (examples of errors, which then check `code` with jq -e).
// - Only loopback targets: a block that subscribes a non-loopback target_url, or a curl to a non-loopback
//   host, fails the check (mark such a block skip). Everything started is stopped by its process group id.
// - Bounded: each file gets FILE_TIMEOUT_MS, the whole run TOTAL_TIMEOUT_MS.
//
// Usage: node scripts/docs-check.mjs [file.md ...]   (default: README.md and docs/*.md); DOCS_CHECK_VERBOSE=1
// prints every block's output.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const ROOT = resolve(import.meta.dirname, '..');
const FILE_TIMEOUT_MS = 150_000;
const TOTAL_TIMEOUT_MS = 250_000;
const SERVER_START_TIMEOUT_MS = 90_000;
const MARKER = /^<!--\s*docs-check:\s*(skip|expect-errors)\s*\((.+)\)\s*-->$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const startedAt = Date.now();
let currentSession = null; // the bash session running now, stopped on Ctrl-C too
let interrupted = false;

/** The ```bash blocks of a Markdown file, with their line numbers and skip markers. Indented fences count. */
export function bashBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, language] = open;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    if (language === 'bash') {
      let previous = i - 1;
      while (previous >= 0 && lines[previous].trim() === '') previous--;
      const marker = previous >= 0 ? MARKER.exec(lines[previous].trim()) : null;
      const body = lines.slice(i + 1, end).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
      blocks.push({
        line: i + 1,
        code: body.join('\n'),
        skip: marker?.[1] === 'skip' ? marker[2].trim() : null,
        expectErrors: marker?.[1] === 'expect-errors',
      });
    }
    i = end;
  }
  return blocks;
}

/** What a block would reach beyond the check's server and receiver: non-loopback target_url, registries, servers. */
function foreignTargets(code) {
  const hosts = [];
  for (const match of code.matchAll(/"target_url"\s*:\s*"([^"]*)"/g)) {
    try {
      const host = new URL(match[1]).host.replace(/:\d+$/, '');
      if (!LOOPBACK_HOSTS.has(host)) hosts.push(match[1]);
    } catch {
      hosts.push(match[1]);
    }
  }
  if (/(^|[\s;&|(])npm (install|i|ci|add)\b/m.test(code)) hosts.push('npm install (a package registry)');
  if (/(^|[\s;&|(])(npm start|npm run (start|migration)|docker)\b/m.test(code)) hosts.push('a second server, a database of yours or docker');
  return hosts;
}

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Kills a process group we started (its leader's pid), first politely. */
async function stopGroup(child, graceMs = 5_000) {
  if (!child?.pid) return;
  const alive = () => {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < graceMs && alive(); waited += 100) await sleep(100);
  if (alive()) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

/** A working directory that looks like the repository to `npm run …`, without letting the docs write into it. */
function workspace(dir) {
  for (const entry of ['package.json', 'package-lock.json', 'node_modules', 'dist', 'scripts', 'src', 'tsconfig.json', 'nest-cli.json']) {
    if (existsSync(join(ROOT, entry))) symlinkSync(join(ROOT, entry), join(dir, entry));
  }
}

async function freshDatabase() {
  if (!process.env.DATABASE_URL) return { env: {}, drop: async () => {} };
  const name = `docs_check_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    description: `database ${name} on ${url.host}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function startServer(tmp, port, database) {
  const logPath = join(tmp, 'server.log');
  const log = openSync(logPath, 'a');
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'development', LOG_LEVEL: 'warn', ...database.env };
  if (!database.env.DATABASE_URL) {
    delete env.DATABASE_URL;
    env.DATA_DIR = join(tmp, 'data');
  }
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: tmp,
    env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => (exited = signal ?? code));
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the server exited (${exited}) before it was ready:\n${tail(readFileSync(logPath, 'utf8'))}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health/ready`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return { child, logPath };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await stopGroup(child);
  throw new Error(`the server was not ready within ${SERVER_START_TIMEOUT_MS / 1000} s:\n${tail(readFileSync(logPath, 'utf8'))}`);
}

/** Runs the blocks of one file in one bash session; resolves to {ok, block, output}. */
async function runFile(file, blocks, { tmp, crmPort, receiverPort }) {
  const rewrite = (code) =>
    code.replaceAll('localhost:8001', `127.0.0.1:${crmPort}`).replaceAll('localhost:3000', `127.0.0.1:${receiverPort}`);
  let script = `source ${JSON.stringify(join(ROOT, 'scripts/docs-check-prelude.sh'))}\n`;
  blocks.forEach((block, index) => {
    if (block.skip) return;
    script += `\n__docs_check_block ${index}\n__docs_check_expect_errors=${block.expectErrors ? 1 : 0}\n${rewrite(block.code)}\n`;
  });
  script += '\n__docs_check_block end\n';
  const scriptPath = join(tmp, `${basename(file)}.sh`);
  writeFileSync(scriptPath, script);
  const logPath = join(tmp, `${basename(file)}.log`);
  const log = openSync(logPath, 'a'); // append: writers in the session (a background receiver) share it
  const child = spawn('bash', ['--noprofile', '--norc', scriptPath], {
    cwd: join(tmp, 'work'),
    env: { PATH: process.env.PATH, HOME: join(tmp, 'home'), LANG: 'C.UTF-8', RECEIVER_PORT: String(receiverPort), npm_config_update_notifier: 'false' },
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  currentSession = child;
  const timeoutMs = Math.min(FILE_TIMEOUT_MS, TOTAL_TIMEOUT_MS - (Date.now() - startedAt));
  const result = await new Promise((done) => {
    const timer = setTimeout(() => done({ code: 'timeout' }), Math.max(timeoutMs, 1_000));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code: signal ?? code });
    });
  });
  await stopGroup(child); // the session's background jobs (a receiver) go with it
  const output = readFileSync(logPath, 'utf8').replaceAll('\0', '');
  const sections = output.split(/\n@@docs-check block (\w+)@@\n/);
  // sections: [prelude output, id, output, id, output, ...]
  const lastId = sections.length >= 3 ? sections[sections.length - 2] : null;
  const lastOutput = sections.length >= 3 ? sections[sections.length - 1] : sections[0];
  if (process.env.DOCS_CHECK_VERBOSE) console.log(output.replace(/\n@@docs-check block (\w+)@@\n/g, (_, id) => `\n----- block ${id === 'end' ? 'end' : `at line ${blocks[Number(id)].line}`}\n`));
  if (result.code === 0 && lastId === 'end') return { ok: true, ran: blocks.filter((b) => !b.skip).length };
  const block = lastId !== null && lastId !== 'end' ? blocks[Number(lastId)] : null;
  const reason = result.code === 'timeout' ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited ${result.code}`;
  return { ok: false, block, reason, output: lastOutput };
}

function docFiles(args) {
  if (args.length > 0) return args.map((file) => resolve(file));
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort((a, b) => (a === 'webhooks.md' ? -1 : b === 'webhooks.md' ? 1 : a.localeCompare(b)));
  return [join(ROOT, 'README.md'), ...docs.map((name) => join(ROOT, 'docs', name))];
}

async function main() {
  const files = docFiles(process.argv.slice(2));
  const plan = files.map((file) => ({ file, blocks: bashBlocks(readFileSync(file, 'utf8')) }));
  const problems = [];
  for (const { file, blocks } of plan) {
    blocks.forEach((block) => {
      if (block.skip) return;
      const foreign = foreignTargets(block.code);
      if (foreign.length > 0) problems.push(`${file}:${block.line}: reaches ${foreign.join(', ')}: only loopback targets run here; add <!-- docs-check: skip (reason) --> before the block`);
    });
  }
  if (problems.length > 0) {
    console.error(`docs:check: blocks that cannot run here without a skip marker:\n${problems.join('\n')}`);
    process.exit(1);
  }
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) {
    console.error('docs:check: dist/src/main.js is missing; run `npm run build` first');
    process.exit(1);
  }

  const tmp = mkdtempSync(join(tmpdir(), 'junction-docs-check-'));
  chmodSync(tmp, 0o755); // the embedded PostgreSQL runs as the postgres user when we are root
  mkdirSync(join(tmp, 'work'));
  mkdirSync(join(tmp, 'home'));
  workspace(join(tmp, 'work'));
  const [crmPort, receiverPort] = [await freePort(), await freePort()];
  let server;
  let database;
  let failed = false;
  const stop = async () => {
    await stopGroup(currentSession);
    await stopGroup(server?.child, 20_000);
    await database?.drop().catch((error) => console.error(`docs:check: could not drop the database: ${error.message}`));
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      interrupted = true;
      console.error(`docs:check: ${signal}: stopping what it started`);
      void stop().then(() => {
        rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  try {
    database = await freshDatabase();
    const startBegan = Date.now();
    server = await startServer(tmp, crmPort, database);
    console.log(
      `docs:check: server ready on 127.0.0.1:${crmPort} in ${((Date.now() - startBegan) / 1000).toFixed(1)} s ` +
        `(${database.description ?? 'embedded PostgreSQL in a temporary DATA_DIR'}); receiver port ${receiverPort}`,
    );
    for (const { file, blocks } of plan) {
      const began = Date.now();
      const relative = file.startsWith(ROOT) ? file.slice(ROOT.length + 1) : file;
      const result = await runFile(file, blocks, { tmp, crmPort, receiverPort });
      const skipped = blocks.filter((b) => b.skip);
      if (result.ok) {
        console.log(`  ok   ${relative}: ${result.ran} blocks ran, ${skipped.length} skipped (${((Date.now() - began) / 1000).toFixed(1)} s)`);
        for (const block of skipped) console.log(`         skipped line ${block.line}: ${block.skip}`);
        continue;
      }
      failed = true;
      if (interrupted) break;
      const where = result.block ? `${relative}:${result.block.line}` : relative;
      console.error(`  FAIL ${where}: the block ${result.reason}\n--- block ---\n${result.block?.code ?? '(before the first block)'}\n--- output ---\n${tail(result.output, 60)}\n---`);
      break;
    }
    if (failed) console.error(`--- server log (last lines) ---\n${tail(readFileSync(server.logPath, 'utf8'), 20)}`);
  } catch (error) {
    failed = true;
    console.error(`docs:check: ${error.message}`);
  } finally {
    await stop();
    if (!failed) rmSync(tmp, { recursive: true, force: true });
    else console.error(`docs:check: files kept in ${tmp}`);
  }
  console.log(`docs:check: ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
