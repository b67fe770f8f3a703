import { describe, expect, it } from 'vitest';
import { outputIsTerminal } from './console-logger.js';
import { describeStartupError } from './startup-error.js';

const config = { port: 8001, host: '0.0.0.0', databaseUrl: 'postgres://app:hunter2@db.internal:6543/junction' };

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeStartupError', () => {
  it('names the port and the variable to set when the port is taken', () => {
    expect(describeStartupError(withCode('listen EADDRINUSE: address already in use 0.0.0.0:8001', 'EADDRINUSE'), config)).toBe(
      'PORT 8001 is in use; set PORT=… to a free port (e.g. PORT=8002 npm start), or stop the process that holds it',
    );
  });

  it('says a privileged port needs another PORT', () => {
    expect(describeStartupError(withCode('listen EACCES: permission denied 0.0.0.0:80', 'EACCES'), { ...config, port: 80 })).toMatch(/^PORT 80 needs more privileges .*set PORT=/);
  });

  it('names the database address, without its password, for an unreachable server (also inside an AggregateError)', () => {
    const aggregate = new AggregateError([withCode('connect ECONNREFUSED ::1:6543', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:6543', 'ECONNREFUSED')], '');
    const line = describeStartupError(aggregate, config);
    expect(line).toBe('Cannot reach the PostgreSQL server of DATABASE_URL (db.internal:6543/junction): ECONNREFUSED. Is it running, and is DATABASE_URL right?');
    expect(line).not.toContain('hunter2');
  });

  it("passes on PostgreSQL's refusal (authentication, unknown database)", () => {
    expect(describeStartupError(withCode('password authentication failed for user "app"', '28P01'), config)).toBe(
      'The PostgreSQL server of DATABASE_URL (db.internal:6543/junction) refused the connection: password authentication failed for user "app"',
    );
  });

  it('keeps anything else to the first line of its message', () => {
    expect(describeStartupError(new Error('migration 17 failed\n    at somewhere'), config)).toBe('Start-up failed: migration 17 failed (LOG_LEVEL=debug shows the details)');
  });
});

describe('outputIsTerminal', () => {
  it('is true only when every stream is a terminal', () => {
    expect(outputIsTerminal([{ isTTY: true }, { isTTY: true }])).toBe(true);
    expect(outputIsTerminal([{ isTTY: true }, {}])).toBe(false);
    expect(outputIsTerminal([{}, {}])).toBe(false);
  });
});
