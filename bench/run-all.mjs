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
import { BENCH_DIR, ROOT_DIR, loadCheck, printTable } from './lib.mjs';
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

const problems = [];
if (loadBefore.busy) problems.push('the machine was busy with other work (see the load averages): do not record these figures');
if (baseline.errors || baseline.timeouts || baseline.non2xx) problems.push(`baseline: ${baseline.errors} errors, ${baseline.timeouts} timeouts, ${baseline.non2xx} non-2xx`);
problems.push(...contactsProblems(contacts), ...inboundProblems(inbound), ...scaleProblems(scale));

const resultsDir = path.join(BENCH_DIR, 'results');
await mkdir(resultsDir, { recursive: true });
const file = path.join(resultsDir, `run-all-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
const { raw: _raw, ...baselineFigures } = baseline;
await writeFile(file, `${JSON.stringify({ startedAt, machine, load: [loadBefore, loadAfter], baseline: baselineFigures, coldStart, contacts: contactsFigures(contacts), inbound: inboundFigures(inbound), scale: scaleFigures(scale) }, null, 2)}\n`);
console.log(`\nwritten: ${path.relative(ROOT_DIR, file)}`);

if (problems.length) {
  console.error(`\nproblems:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}
