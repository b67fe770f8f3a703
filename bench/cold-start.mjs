// Cold start of the BUILT app: wall time from spawning `node dist/src/main.js` to the first
// GET /api/health answering 200, in three modes:
//
//   embedded-fresh    embedded PostgreSQL, new empty DATA_DIR (initdb + CREATE DATABASE + migrations)
//   embedded-restart  embedded PostgreSQL, DATA_DIR from an earlier start (server start only)
//   external-url      DATABASE_URL to a new scratch database on 127.0.0.1:5432 (migrations on an empty database)
//
//   node bench/cold-start.mjs                  # 3 runs per mode
//   BENCH_COLD_RUNS=5 node bench/cold-start.mjs
//   BENCH_COLD_MODES=external-url node bench/cold-start.mjs
//
// Each app is stopped with SIGTERM (to its PID) and waited for before the next run.

import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createScratchDatabase, ensureBuilt, envInt, isMain, loadCheck, printTable, spawnApp, summarize, waitForHttp } from './lib.mjs';

export const COLD_START_MODES = ['embedded-fresh', 'embedded-restart', 'external-url'];
const START_TIMEOUT_MS = 180_000;

/** A DATA_DIR the embedded server (run as the postgres user when we are root) can use. */
async function makeDataDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'junction-bench-data-'));
  await chmod(dir, 0o755);
  return dir;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * After the app exited, its embedded postmaster must be gone too. If the app failed to stop it, stop that
 * postmaster by the PID in its own postmaster.pid (a process our child started), so runs do not pile up.
 */
async function ensurePostmasterStopped(dataDir) {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  console.error(`[cold-start] embedded postmaster ${pid} outlived the app in ${dataDir}: sending it SIGINT`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 150 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return true;
}

/** Starts the app once with `env`, returns ms to the first 200 from GET /api/health, and stops it. */
async function timeOneStart(env, label) {
  const started = performance.now();
  const app = await spawnApp({ env });
  let ms;
  try {
    await waitForHttp(`${app.url}/health`, START_TIMEOUT_MS, { intervalMs: 10, abortSignal: app.exitSignal });
    ms = performance.now() - started;
  } catch (error) {
    await app.stop();
    throw new Error(`${label}: the app did not become healthy: ${error.message}\n--- app output (tail) ---\n${app.output}`);
  }
  const exit = await app.stop();
  if (exit.code !== 0) {
    console.error(`[cold-start] ${label}: app exited with code ${exit.code} signal ${exit.signal} after SIGTERM\n${app.output}`);
  }
  return ms;
}

/**
 * Runs `runs` cold starts per mode. Returns { modes: [{ mode, runs: [ms…], min, median, max }] }.
 * `log` receives one line per run.
 */
export async function measureColdStart({ runs = envInt('BENCH_COLD_RUNS', 3), modes = COLD_START_MODES, log = console.log } = {}) {
  ensureBuilt();
  const common = { NODE_ENV: 'development', LOG_LEVEL: 'warn' };
  const results = [];
  const dataDirs = [];
  let restartDir;
  try {
    for (const mode of modes) {
      const times = [];
      for (let run = 1; run <= runs; run++) {
        const label = `${mode} #${run}`;
        let ms;
        if (mode === 'embedded-fresh' || mode === 'embedded-restart') {
          let dataDir;
          if (mode === 'embedded-fresh') {
            dataDir = await makeDataDir();
            dataDirs.push(dataDir);
          } else {
            // Restart mode needs an initialised DATA_DIR: reuse the first fresh one, or make one with an untimed start.
            if (!restartDir) {
              restartDir = dataDirs[0];
              if (!restartDir) {
                restartDir = await makeDataDir();
                dataDirs.push(restartDir);
                await timeOneStart({ ...common, DATABASE_URL: undefined, DATA_DIR: restartDir }, 'embedded-restart (priming, untimed)');
                await ensurePostmasterStopped(restartDir);
              }
            }
            dataDir = restartDir;
          }
          try {
            ms = await timeOneStart({ ...common, DATABASE_URL: undefined, DATA_DIR: dataDir }, label);
          } finally {
            if (await ensurePostmasterStopped(dataDir)) log(`  (${label}: had to stop a leftover postmaster)`);
          }
        } else if (mode === 'external-url') {
          const database = await createScratchDatabase('junction_bench_cold');
          try {
            ms = await timeOneStart({ ...common, DATABASE_URL: database.url, DATA_DIR: undefined }, label);
          } finally {
            await database.drop();
          }
        } else {
          throw new Error(`unknown cold-start mode "${mode}" (known: ${COLD_START_MODES.join(', ')})`);
        }
        times.push(ms);
        log(`  ${label}: ${ms.toFixed(0)} ms`);
      }
      results.push({ mode, runs: times, ...summarize(times) });
    }
  } finally {
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  }
  return { modes: results };
}

export function coldStartRows(result) {
  return result.modes.map((mode) => ({
    mode: mode.mode,
    runs: mode.runs.length,
    'min ms': Math.round(mode.min),
    'median ms': Math.round(mode.median),
    'max ms': Math.round(mode.max),
    'each run ms': mode.runs.map((ms) => ms.toFixed(0)).join(', '),
  }));
}

if (isMain(import.meta.url)) {
  const modes = process.env.BENCH_COLD_MODES ? process.env.BENCH_COLD_MODES.split(',').map((mode) => mode.trim()) : COLD_START_MODES;
  console.log(`cold start to GET /api/health 200 (node ${process.version}, ${os.cpus().length} cores)`);
  console.log(loadCheck('start').text);
  const result = await measureColdStart({ modes });
  console.log('');
  printTable(coldStartRows(result));
  console.log(loadCheck('end').text);
}
