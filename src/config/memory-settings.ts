import process from 'node:process';

/** The V8 old-space cap (MB): the app holds about 50 MB of live heap; see docs/operations.md, "Memory". */
export const HEAP_LIMIT_MB = 160;
/** glibc returns allocations of this size and more (scrypt's 16 MiB buffers) to the OS when freed. */
export const MALLOC_MMAP_THRESHOLD = '1048576';
const REEXEC_MARK = 'JUNCTION_CRM_MEMORY_SETTINGS';

/**
 * Makes the process run with the app's memory settings however it was started (`node dist/src/main.js`,
 * `npm start`, the Docker image): without a heap cap V8 lets the heap grow to a few hundred MB between
 * collections, and glibc reads MALLOC_MMAP_THRESHOLD_ only when a process starts. When either is missing the
 * process is replaced by itself (same PID, same stdio, same arguments) with both, through process.execve.
 * An explicit --max-old-space-size (on the command line or in NODE_OPTIONS) and an explicit
 * MALLOC_MMAP_THRESHOLD_ are kept as they are. Where execve is not available (Windows) nothing changes.
 */
export function applyMemorySettings(): void {
  const env = process.env;
  const heapCapped = [...process.execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => flag.startsWith('--max-old-space-size'));
  const mallocSet = env.MALLOC_MMAP_THRESHOLD_ !== undefined;
  if ((heapCapped && mallocSet) || env[REEXEC_MARK] === '1' || typeof process.execve !== 'function') return;
  const flags = heapCapped ? process.execArgv : [`--max-old-space-size=${HEAP_LIMIT_MB}`, ...process.execArgv];
  process.execve(process.execPath, [process.execPath, ...flags, ...process.argv.slice(1)], {
    ...env,
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? MALLOC_MMAP_THRESHOLD,
    [REEXEC_MARK]: '1',
  });
}
