// Diagnostic preload: a V8 CPU profile of an app process over a window chosen by the benchmark.
//
//   BENCH_CPU_PROFILE_FILE=/tmp/app.cpuprofile node --import ./bench/cpu-profiler.mjs dist/src/main.js
//   kill -USR2 <pid>   # starts profiling;   kill -USR2 <pid> again: stops and writes the .cpuprofile
//
// Used by bench/profile.mjs only (never together with bench/query-counter.mjs, which also uses SIGUSR2).

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let running = false;

const post = (method, params = {}) =>
  new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));

process.on('SIGUSR2', () => {
  void (async () => {
    if (!running) {
      running = true;
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 250 });
      await post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await post('Profiler.stop');
    writeFileSync(process.env.BENCH_CPU_PROFILE_FILE, JSON.stringify(profile));
  })();
});
