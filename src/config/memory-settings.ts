import process from 'node:process';

/**
 * The V8 heap settings the app runs with, in MB. The app holds about 50 MB of live heap: the cap keeps V8 from
 * letting the heap grow to a few hundred MB between collections. The young generation must stay small beside
 * it: with Node's default semi-space for this cap, V8 keeps old space free for the whole young generation and
 * runs a full collection every few dozen milliseconds (measured: the inbound processor at a fifth of its speed).
 * See docs/operations.md, "Memory".
 */
export const HEAP_FLAGS = { '--max-old-space-size': 192, '--max-semi-space-size': 16 } as const;
/** glibc returns allocations of this size and more (scrypt's 16 MiB buffers) to the OS when freed. */
export const MALLOC_MMAP_THRESHOLD = '1048576';
const REEXEC_MARK = 'JUNCTION_CRM_MEMORY_SETTINGS';

/**
 * Makes the process run with the app's memory settings however it was started (`node dist/src/main.js`,
 * `npm start`, the Docker image): V8 takes heap flags and glibc reads MALLOC_MMAP_THRESHOLD_ only when a
 * process starts, so when one is missing the process is replaced by itself (same PID, same stdio, same
 * arguments) with them, through process.execve. A heap flag given on the command line or in NODE_OPTIONS, and
 * a MALLOC_MMAP_THRESHOLD_ that is set, are kept as they are. Where execve is not available (Windows) or
 * refused (a sandbox), the process goes on without them, saying so once on stderr.
 */
export function applyMemorySettings(): void {
  const env = process.env;
  if (env[REEXEC_MARK] === '1' || typeof process.execve !== 'function') return;
  const given = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = Object.entries(HEAP_FLAGS)
    .filter(([flag]) => !given.some((arg) => arg === flag || arg.startsWith(`${flag}=`)))
    .map(([flag, mb]) => `${flag}=${mb}`);
  if (missing.length === 0 && env.MALLOC_MMAP_THRESHOLD_ !== undefined) return;
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], {
      ...env,
      MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? MALLOC_MMAP_THRESHOLD,
      [REEXEC_MARK]: '1',
    });
  } catch (error) {
    // A sandbox that forbids execve: the app still runs, with Node's own heap settings; say so once.
    process.stderr.write(`Could not restart with the memory settings (${String(error)}); running without them (see docs/operations.md, "Memory")\n`);
  }
}
