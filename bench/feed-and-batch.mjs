// Batch upsert and event feed benchmark (issue 15, "Measure"): the BUILT app on a scratch database on 127.0.0.1:5432.
//
//   (a) 500 contacts as 500 single POST /api/contacts (one at a time, as an n8n loop sends them, and 10 at a
//       time) vs one POST /api/contacts/batch of 500: wall time and SQL statements. The batch is also timed
//       re-sent with a change to every item (500 updates) and re-sent as is (500 unchanged).
//   (b) Statements per 500 contacts for each way, from an app started with bench/query-counter.mjs.
//   (c) The feed's read throughput: GET /api/events?limit=200 over BENCH_FEED_EVENTS events of one tenant
//       (seeded through the batch route): one poller draining the whole feed from the start (events/s),
//       then autocannon on one page (c=10) for BENCH_DURATION seconds.
//
//   npm run build && node bench/feed-and-batch.mjs
//   BENCH_FEED_EVENTS=5000 BENCH_DURATION=3 node bench/feed-and-batch.mjs      # quick
//
// The app runs with its defaults (APP_ROLE=all, DB_POOL_SIZE=10), LOG_LEVEL=warn, no subscriptions (the
// fan-out is one INSERT … SELECT that finds none).

import { api, readQueryCounts, queryDelta, registerAccount, startApp, stopApp } from './crm-helpers.mjs';
import { createScratchDatabase, ensureBuilt, envInt, envSeconds, loadCheck, printTable, runAutocannon } from './lib.mjs';

const BATCH_SIZE = 500;
const FEED_EVENTS = envInt('BENCH_FEED_EVENTS', 10_000);
const DURATION = envSeconds('BENCH_DURATION', 5);

const contactsFor = (run, count = BATCH_SIZE) =>
  Array.from({ length: count }, (_, i) => ({ email: `${run}-${i}@bench.example.com`, first_name: `First ${i}`, last_name: 'Bench', company: 'Acme Ltd', source: 'import' }));

async function timed(fn) {
  const started = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

async function singles(app, token, contacts, concurrency) {
  let next = 0;
  const worker = async () => {
    while (next < contacts.length) {
      const body = contacts[next++];
      await api(app, 'POST', '/contacts', { token, body });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const batch = (app, token, contacts) => api(app, 'POST', '/contacts/batch', { token, body: { contacts } });

/** The four ways of writing 500 contacts, each on fresh emails (or the batch's own, for updates/unchanged). */
function runWays(app, token, tag) {
  const ways = [
    { way: '500 × POST /api/contacts, one at a time', run: () => singles(app, token, contactsFor(`${tag}-seq`), 1) },
    { way: '500 × POST /api/contacts, 10 at a time', run: () => singles(app, token, contactsFor(`${tag}-par`), 10) },
    { way: '1 × POST /api/contacts/batch (500 created)', run: () => batch(app, token, contactsFor(`${tag}-batch`)) },
    {
      way: '1 × POST /api/contacts/batch (500 updated)',
      run: () => batch(app, token, contactsFor(`${tag}-batch`).map((c) => ({ ...c, company: 'Globex' }))),
    },
    { way: '1 × POST /api/contacts/batch (500 unchanged)', run: () => batch(app, token, contactsFor(`${tag}-batch`).map((c) => ({ ...c, company: 'Globex' }))) },
  ];
  return ways;
}

async function main() {
  await ensureBuilt();
  const load = loadCheck('start');
  const database = await createScratchDatabase('junction_bench_feed');
  const rows = [];
  try {
    // (a) wall time, on an app without the query counter.
    const app = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn' }, label: 'app' });
    try {
      const account = await registerAccount(app, 'batch');
      await batch(app, account.token, contactsFor('warmup', 50));
      await singles(app, account.token, contactsFor('warmup-single', 50), 1);
      for (const { way, run } of runWays(app, account.token, 'timed')) {
        const { ms } = await timed(run);
        rows.push({ way, 'wall ms': ms.toFixed(0), 'contacts/s': ((BATCH_SIZE / ms) * 1000).toFixed(0) });
      }

      // (c) feed read throughput over FEED_EVENTS events of one tenant.
      const reader = await registerAccount(app, 'feed');
      for (let seeded = 0, run = 0; seeded < FEED_EVENTS; seeded += BATCH_SIZE, run++) {
        await batch(app, reader.token, contactsFor(`feed-${run}`, Math.min(BATCH_SIZE, FEED_EVENTS - seeded)));
      }
      const drain = await timed(async () => {
        let after;
        let events = 0;
        let pages = 0;
        for (;;) {
          const page = await api(app, 'GET', `/events?limit=200${after ? `&after=${after}` : ''}`, { token: reader.token });
          events += page.data.length;
          pages += 1;
          after = page.next_cursor;
          if (!page.has_more) break;
        }
        return { events, pages };
      });
      const middle = await api(app, 'GET', `/events?limit=200`, { token: reader.token });
      const cannon = await runAutocannon({
        url: `${app.url}/events?limit=200&after=${middle.next_cursor}`,
        method: 'GET',
        headers: { authorization: `Bearer ${reader.token}` },
        connections: 10,
        duration: DURATION,
        warmup: 1,
      });
      console.log('\nFeed read throughput');
      printTable([
        {
          what: `drain ${drain.result.events} events from the start, limit=200, one poller`,
          result: `${drain.result.pages} pages in ${drain.ms.toFixed(0)} ms = ${((drain.result.events / drain.ms) * 1000).toFixed(0)} events/s`,
        },
        {
          what: `GET /api/events?limit=200 (one full page), c=10, ${DURATION} s`,
          result: `${cannon.reqPerSec.toFixed(0)} req/s = ${(cannon.reqPerSec * 200).toFixed(0)} events/s, p50 ${cannon.p50} ms, p99 ${cannon.p99} ms, non-2xx ${cannon.non2xx}, errors ${cannon.errors}`,
        },
      ]);
    } finally {
      await stopApp(app);
    }

    // (b) statements, on an app with the query counter.
    const counted = await startApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'warn' }, label: 'counted', countQueries: true });
    try {
      const account = await registerAccount(counted, 'count');
      let index = 0;
      for (const { run } of runWays(counted, account.token, 'counted')) {
        const before = await readQueryCounts(counted);
        await run();
        const delta = queryDelta(before, await readQueryCounts(counted), BATCH_SIZE);
        rows[index].statements = delta.total;
        rows[index]['per contact'] = delta.perUnit.toFixed(2);
        index += 1;
      }
    } finally {
      await stopApp(counted);
    }
    console.log(`\n500 contacts: singles vs batch (${load.text})`);
    printTable(rows);
  } finally {
    await database.drop();
  }
  console.log(loadCheck('end').text);
}

await main();
