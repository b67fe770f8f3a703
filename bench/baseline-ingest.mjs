// Baseline for ingest benchmarks: what bare Fastify + pg does on this machine for "accept a JSON event,
// insert it as one jsonb row". Later benchmarks of the app's own ingest path run measureBaseline() in the
// same run and print their ratio to it, so machine-to-machine differences cancel out.
//
//   node bench/baseline-ingest.mjs                       # c=50, 10 s (+2 s warm-up)
//   BENCH_DURATION=30 BENCH_CONNECTIONS=100 node bench/baseline-ingest.mjs
//
// The server (bench/baseline-server.mjs) runs as a child process on a scratch database created on
// 127.0.0.1:5432 and dropped afterwards; autocannon runs in this process.

import path from 'node:path';
import pg from 'pg';
import {
  BENCH_DIR,
  SAMPLE_EVENT_BODY,
  createScratchDatabase,
  envInt,
  envSeconds,
  freePort,
  isMain,
  loadCheck,
  printTable,
  runAutocannon,
  spawnNode,
  waitForHttp,
} from './lib.mjs';

/**
 * Starts the baseline server on a scratch database, drives POST /ingest with autocannon and cleans up.
 * Returns the runAutocannon figures plus { rowsInserted, name }.
 */
export async function measureBaseline({
  duration = envSeconds('BENCH_DURATION', 10),
  connections = envInt('BENCH_CONNECTIONS', 50),
  warmup = envSeconds('BENCH_WARMUP', 2),
  body = SAMPLE_EVENT_BODY,
} = {}) {
  const database = await createScratchDatabase('junction_bench_baseline');
  let server;
  try {
    const port = await freePort();
    server = spawnNode(path.join(BENCH_DIR, 'baseline-server.mjs'), [], { env: { PORT: port, DATABASE_URL: database.url } });
    const url = `http://127.0.0.1:${port}/ingest`;
    // The table is created before listen(), so any HTTP answer (GET /ingest is a 404) means ready.
    await waitForHttp(url, 15_000, { accept: () => true, abortSignal: server.exitSignal }).catch((error) => {
      throw new Error(`baseline server did not start: ${error.message}\n${server.output}`);
    });

    const result = await runAutocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration,
      warmup,
      title: 'baseline POST /ingest',
    });

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let rowsInserted;
    try {
      rowsInserted = Number((await client.query('SELECT count(*) AS n FROM baseline_events')).rows[0].n);
    } finally {
      await client.end();
    }
    return { name: 'baseline: fastify + pg insert', ...result, warmup, rowsInserted };
  } finally {
    if (server) await server.stop();
    await database.drop();
  }
}

/** One table row for printTable. */
export function baselineRow(result) {
  return {
    benchmark: result.name,
    connections: result.connections,
    'duration s': result.duration,
    'req/s': result.reqPerSec,
    'p50 ms': result.p50,
    'p99 ms': result.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

if (isMain(import.meta.url)) {
  const before = loadCheck('start');
  console.log(before.text);
  const result = await measureBaseline();
  printTable([baselineRow(result)]);
  console.log(
    `\nbaseline: ${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99} ms ` +
      `(c=${result.connections}, ${result.duration} s after ${result.warmup} s warm-up; ${result.total} requests measured, ` +
      `${result.rowsInserted} rows inserted incl. warm-up)`,
  );
  if (result.errors || result.non2xx || result.timeouts) {
    console.error('baseline had errors or non-2xx answers: the figures above are not a valid baseline');
    process.exitCode = 1;
  }
}
