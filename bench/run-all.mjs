// Runs every Node benchmark in one go and prints a summary; `npm run bench` runs this.
// (bench/ci-and-test-times.sh is separate: it is slow and measures npm itself.)
//
//   npm run bench
//   BENCH_DURATION=30 BENCH_COLD_RUNS=5 npm run bench
//   BENCH_INBOUND_PARTS=ingest,latency BENCH_CONTACTS_PARTS=create npm run bench    # skip the slow parts
//   BENCH_SCALE_LEVELS=10000,100000,1000000 npm run bench    # the scale table with the 1M level (~12 min more)
//
// The figures are also written as JSON to bench/results/ (git-ignored).

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { baselineRow, measureBaseline } from './baseline-ingest.mjs';
import { coldStartRows, measureColdStart } from './cold-start.mjs';
import { contactsFigures, contactsProblems, contactsSummaryRows, measureContacts, reportContacts } from './contacts.mjs';
import { inboundFigures, inboundProblems, inboundSummaryRows, measureInbound, reportInbound } from './inbound.mjs';
import { BENCH_DIR, ROOT_DIR, loadCheck, peakRss, printTable, spawnNode } from './lib.mjs';
import { readFile } from 'node:fs/promises';
import { RUN_ALL_SCALE_LEVELS, measureScale, reportScale, scaleFigures, scaleLevelsFromEnv, scaleProblems, scaleSummaryRows } from './scale.mjs';

function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const startedAt = new Date();
const machine = { node: process.version, cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), head: gitHead() };
console.log(`Junction CRM benchmarks — ${startedAt.toISOString()} — node ${machine.node}, ${machine.cores} cores, HEAD ${machine.head}\n`);

const loadBefore = loadCheck('start');
console.log(`${loadBefore.text}\n`);

console.log('== baseline ingest (bare Fastify + pg, POST /ingest)');
const baseline = await measureBaseline();
printTable([baselineRow(baseline)]);

console.log('\n== cold start to GET /api/health 200');
const coldStart = await measureColdStart();

console.log('\n== contacts: POST /api/contacts vs the baseline, GET /api/contacts?q= over 100k contacts (bench/contacts.mjs)');
const contacts = await measureContacts();
reportContacts(contacts);

console.log('\n== inbound webhooks: ingest vs the baseline, received → processed latency, backlog drain (bench/inbound.mjs)');
const inbound = await measureInbound();
reportInbound(inbound);

console.log('\n== outbound webhooks: deliveries/s, event → receiver latency, fan-out, memory (bench/outbound.mjs, its own processes)');
const outbound = await runOutbound();

const scaleLevels = scaleLevelsFromEnv(RUN_ALL_SCALE_LEVELS);
console.log(`\n== scale: how cost grows with data, ${scaleLevels.join(' / ')} contacts (bench/scale.mjs; BENCH_SCALE_LEVELS to choose)`);
const scale = await measureScale({ levels: scaleLevels });
reportScale(scale);

const loadAfter = loadCheck('end');
console.log(`\n${loadAfter.text} (includes the benchmarks' own processes)`);

console.log('\n== summary');
printTable([
  { figure: 'baseline ingest req/s', value: Math.round(baseline.reqPerSec) },
  { figure: 'baseline ingest p99 ms', value: baseline.p99 },
  ...coldStart.modes.map((mode) => ({ figure: `cold start ${mode.mode} median ms`, value: Math.round(mode.median) })),
  ...contactsSummaryRows(contacts),
  ...inboundSummaryRows(inbound),
  ...scaleSummaryRows(scale),
]);
console.log('');
printTable(coldStartRows(coldStart));

console.log('\n== the hot paths against the baseline measured in this run (issue 14)');
printTable(hotPathRows());

const problems = [];
if (loadBefore.busy) problems.push('the machine was busy with other work (see the load averages): do not record these figures');
if (baseline.errors || baseline.timeouts || baseline.non2xx) problems.push(`baseline: ${baseline.errors} errors, ${baseline.timeouts} timeouts, ${baseline.non2xx} non-2xx`);
problems.push(...contactsProblems(contacts), ...inboundProblems(inbound), ...scaleProblems(scale));

const resultsDir = path.join(BENCH_DIR, 'results');
await mkdir(resultsDir, { recursive: true });
if (!outbound) problems.push('outbound: bench/outbound.mjs failed (see its output above)');
const file = path.join(resultsDir, `run-all-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
const { raw: _raw, ...baselineFigures } = baseline;
await writeFile(file, `${JSON.stringify({ startedAt, machine, load: [loadBefore, loadAfter], baseline: baselineFigures, coldStart, contacts: contactsFigures(contacts), inbound: inboundFigures(inbound), outbound: outbound?.summary ?? null, scale: scaleFigures(scale), peakRssMB: overallPeakRss() }, null, 2)}\n`);
console.log(`\nwritten: ${path.relative(ROOT_DIR, file)}`);

if (problems.length) {
  console.error(`\nproblems:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}

/** bench/outbound.mjs as a child process (it starts its own app and receiver); its JSON results, or null. */
async function runOutbound() {
  const child = spawnNode(path.join(BENCH_DIR, 'outbound.mjs'), [], { env: { BENCH_SKIP_BASELINE: '1' }, echo: true, killAfterMs: 30 * 60_000 });
  const exit = await child.exited;
  const written = /written: (\S+)/.exec(child.output)?.[1];
  if (!written || (exit.code !== 0 && exit.code !== 2)) return null;
  return JSON.parse(await readFile(path.join(ROOT_DIR, written), 'utf8'));
}

/** The highest resident memory of any app process of the run: this process's children and outbound's app. */
function overallPeakRss() {
  return Math.round(Math.max(peakRss(), outbound?.scenarios?.memory?.vmHwmMB ?? 0));
}

/**
 * Issue 14's table: each hot path's figure, its ratio to the baseline ingest of this run where that is the
 * measure (the verdict's), and the goal. "÷ bracket" is the ratio to the mean of the baseline measured just
 * before and just after that path in its own part: on a machine whose speed drifts during the run it is the
 * steadier comparison, so both are shown (bench/README.md, fifth session, for a run where they differed).
 */
function hotPathRows() {
  const ratioOf = (reqPerSec, reference = baseline.reqPerSec) => Number((reqPerSec / reference).toFixed(2));
  const verdict = (met) => (met ? 'met' : 'MISSED');
  const rows = [];
  const ingest = inbound.ingest?.runs.find((run) => run.role === 'all');
  if (ingest) {
    const r = ingest.result;
    rows.push({ path: 'POST /api/webhooks/lead.captured (APP_ROLE=all)', figure: `${Math.round(r.reqPerSec)} req/s, p99 ${r.p99} ms`, '÷ baseline': ratioOf(r.reqPerSec), '÷ bracket': ratioOf(r.reqPerSec, inbound.ingest.baselineReqPerSec), goal: '≥ 1.0×, p99 < 50 ms', verdict: verdict(ratioOf(r.reqPerSec) >= 1 && r.p99 < 50) });
  }
  if (contacts.create) {
    const r = contacts.create.create;
    rows.push({ path: 'POST /api/contacts', figure: `${Math.round(r.reqPerSec)} req/s, p99 ${r.p99} ms`, '÷ baseline': ratioOf(r.reqPerSec), '÷ bracket': ratioOf(r.reqPerSec, contacts.create.baselineReqPerSec), goal: '≥ 0.5×, p99 < 100 ms', verdict: verdict(ratioOf(r.reqPerSec) >= 0.5 && r.p99 < 100) });
  }
  if (inbound.drain?.wallSeconds) {
    const rate = Math.round(inbound.drain.count / inbound.drain.wallSeconds);
    rows.push({ path: `inbound backlog drain (${inbound.drain.count} lead.captured → contact + event)`, figure: `${rate} events/s`, '÷ baseline': '', '÷ bracket': '', goal: '≥ 2,000/s', verdict: verdict(rate >= 2000) });
  }
  const ten = outbound?.scenarios?.throughput?.find((row) => row.subscriptions === 10);
  if (ten) rows.push({ path: 'deliveries to a local receiver, 10 subscriptions', figure: `${Math.round(ten['deliveries/s'])}/s`, '÷ baseline': '', '÷ bracket': '', goal: '≥ 3,000/s', verdict: verdict(ten['deliveries/s'] >= 3000) });
  const latency = outbound?.scenarios?.latency;
  if (latency) rows.push({ path: `event → receiver at ${Math.round(latency['offered/s'])} creates/s`, figure: `p99 ${latency['p99 ms']} ms`, '÷ baseline': '', '÷ bracket': '', goal: '< 25 ms', verdict: verdict(latency['p99 ms'] < 25) });
  const peak = overallPeakRss();
  rows.push({ path: 'peak RSS of any app process over the whole run (node dist/src/main.js)', figure: `${peak} MiB`, '÷ baseline': '', '÷ bracket': '', goal: '< 250 MiB', verdict: verdict(peak < 250) });
  return rows;
}
