// The baseline's server: bare Fastify with one route, POST /ingest, that inserts one jsonb row per request
// through a pg.Pool of 10 connections. Run as its own process (see baseline-ingest.mjs) so that the load
// generator does not share its event loop.
//
//   PORT=8080 DATABASE_URL=postgres://postgres@127.0.0.1:5432/some_scratch_db node bench/baseline-server.mjs
//
// The table is created at start; the server stops (closing the pool) on SIGTERM or SIGINT.

import Fastify from 'fastify';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  process.stderr.write('DATABASE_URL is required\n');
  process.exit(1);
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.POOL_SIZE ?? 10) });
await pool.query('CREATE TABLE IF NOT EXISTS baseline_events (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

app.post('/ingest', async (request, reply) => {
  // pg sends the parameter as text; JSON.stringify keeps it a jsonb document rather than a Postgres array/record.
  await pool.query('INSERT INTO baseline_events(payload) VALUES ($1)', [JSON.stringify(request.body)]);
  reply.code(202);
  return { accepted: true };
});

await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`baseline-server listening on http://127.0.0.1:${app.server.address().port} (pid ${process.pid})\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  try {
    await app.close();
    await pool.end();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`shutdown failed: ${error}\n`);
    process.exit(1);
  }
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
