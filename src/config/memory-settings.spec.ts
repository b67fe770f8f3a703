import process from 'node:process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyMemorySettings } from './memory-settings.js';

const saved = { execve: process.execve, execArgv: process.execArgv, mark: process.env.JUNCTION_CRM_MEMORY_SETTINGS, nodeOptions: process.env.NODE_OPTIONS, malloc: process.env.MALLOC_MMAP_THRESHOLD_ };

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

afterEach(() => {
  process.execve = saved.execve;
  process.execArgv = saved.execArgv;
  restore('JUNCTION_CRM_MEMORY_SETTINGS', saved.mark);
  restore('NODE_OPTIONS', saved.nodeOptions);
  restore('MALLOC_MMAP_THRESHOLD_', saved.malloc);
  vi.restoreAllMocks();
});

function startedPlainly(): void {
  process.execArgv = [];
  delete process.env.JUNCTION_CRM_MEMORY_SETTINGS;
  delete process.env.NODE_OPTIONS;
  delete process.env.MALLOC_MMAP_THRESHOLD_;
}

describe('applyMemorySettings', () => {
  it('replaces a plainly started process with itself, with the heap flags, the malloc threshold and a mark against looping', () => {
    startedPlainly();
    const execve = vi.fn();
    process.execve = execve as unknown as typeof process.execve;
    applyMemorySettings();
    expect(execve).toHaveBeenCalledTimes(1);
    const [file, args, env] = execve.mock.calls[0] as [string, string[], Record<string, string>];
    expect(file).toBe(process.execPath);
    expect(args.slice(0, 3)).toEqual([process.execPath, '--max-old-space-size=192', '--max-semi-space-size=16']);
    expect(args.slice(3)).toEqual(process.argv.slice(1));
    expect(env).toMatchObject({ MALLOC_MMAP_THRESHOLD_: '1048576', JUNCTION_CRM_MEMORY_SETTINGS: '1' });
  });

  it('does nothing when everything is set, or once restarted', () => {
    const execve = vi.fn();
    process.execve = execve as unknown as typeof process.execve;
    startedPlainly();
    process.env.NODE_OPTIONS = '--max-old-space-size=300 --max-semi-space-size=8';
    process.env.MALLOC_MMAP_THRESHOLD_ = '65536';
    applyMemorySettings();
    startedPlainly();
    process.env.JUNCTION_CRM_MEMORY_SETTINGS = '1';
    applyMemorySettings();
    expect(execve).not.toHaveBeenCalled();
  });

  it('goes on without the settings, saying so once, when execve is refused', () => {
    startedPlainly();
    process.execve = (() => {
      throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
    }) as unknown as typeof process.execve;
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => applyMemorySettings()).not.toThrow();
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0][0])).toMatch(/^Could not restart with the memory settings \(Error: operation not permitted\); running without them/);
  });
});
