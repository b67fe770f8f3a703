// Diagnostic preload: counts the SQL statements an app process sends through node-postgres, by statement
// text, so a benchmark can show how many queries one request (or one processed event) costs.
//
//   BENCH_QUERY_COUNT_FILE=/tmp/q.json node --import ./bench/query-counter.mjs dist/src/main.js
//   kill -USR2 <that pid>      # writes { total, statements: { "<sql>": count, … } } to the file
//
// Used only by the "queries per request" phases of bench/contacts.mjs and bench/inbound.mjs, on an app
// started for that purpose: the timed runs use an app without it. It changes nothing but a counter.

import { writeFileSync } from 'node:fs';
import pg from 'pg';

const counts = new Map();
let total = 0;
const original = pg.Client.prototype.query;

pg.Client.prototype.query = function countedQuery(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    total += 1;
    const key = text.replace(/\s+/g, ' ').trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return original.call(this, config, values, callback);
};

process.on('SIGUSR2', () => {
  const file = process.env.BENCH_QUERY_COUNT_FILE;
  if (!file) return;
  writeFileSync(file, JSON.stringify({ total, statements: Object.fromEntries(counts) }));
});
