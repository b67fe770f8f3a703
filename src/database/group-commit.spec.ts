import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes what arrives together in one batch, and what arrives during a write in the next one', async () => {
    const batches: number[][] = [];
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    const group = new GroupCommit<number, string>(
      async (items) => {
        batches.push(items);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        return items.map((n) => `#${n}`);
      },
      { maxBatch: 100, maxInFlight: 1 },
    );
    const first = [1, 2, 3].map((n) => group.submit(n));
    await tick();
    expect(batches).toEqual([[1, 2, 3]]);
    const second = [4, 5].map((n) => group.submit(n));
    await tick();
    expect(batches).toHaveLength(1); // the one slot is busy: 4 and 5 wait
    gates[0].resolve();
    expect(await Promise.all(first)).toEqual(['#1', '#2', '#3']);
    await tick();
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
    gates[1].resolve();
    expect(await Promise.all(second)).toEqual(['#4', '#5']);
  });

  it('settles no caller before its batch is written', async () => {
    const gate = deferred<void>();
    const group = new GroupCommit<number, number>(
      async (items) => {
        await gate.promise;
        return items;
      },
      { maxBatch: 10, maxInFlight: 2 },
    );
    let settled = false;
    const result = group.submit(7).then((value) => ((settled = true), value));
    await tick();
    await tick();
    expect(settled).toBe(false);
    gate.resolve();
    expect(await result).toBe(7);
  });

  it('caps a batch at maxBatch and runs up to maxInFlight batches at once', async () => {
    const sizes: number[] = [];
    let concurrent = 0;
    let peak = 0;
    const group = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 5));
        concurrent -= 1;
        return items;
      },
      { maxBatch: 4, maxInFlight: 2 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, n) => group.submit(n)));
    expect(Math.max(...sizes)).toBe(4);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(20);
    expect(peak).toBe(2);
  });

  it('writes a failed batch again one item at a time, so only the bad item fails', async () => {
    const group = new GroupCommit<number, number>(
      async (items) => {
        if (items.includes(13)) throw new Error('violates a constraint');
        return items.map((n) => n * 2);
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 13, 3].map((n) => group.submit(n)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 'violates a constraint', 6]);
  });

  it('fails every caller of a batch at once when the database is unavailable (no one-by-one retries)', async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>(
      async () => {
        calls += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
  });
});
