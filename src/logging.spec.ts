import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from './config/app.config.js';
import { loggerOptions, logRequests } from './logging.js';

/** A Fastify instance whose request lines go, through the app's serializers, into `lines`. */
async function loggedServer() {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const { pinoHttp } = loggerOptions({ logLevel: 'info' } as AppConfig);
  const fastify = new FastifyAdapter().getInstance();
  logRequests(fastify, pino({ level: 'info', serializers: (pinoHttp as { serializers: pino.LoggerOptions['serializers'] }).serializers }, stream));
  fastify.get('/api/fails', async () => {
    throw new Error('boom');
  });
  fastify.get('/api/found', async () => ({ ok: true }));
  fastify.get('/api/health/ready', async () => ({ ok: true }));
  await fastify.ready();
  return { fastify, lines };
}

describe('logRequests', () => {
  it('writes a response below 500 at info and a 5xx at error, with status and duration, and skips health probes', async () => {
    const { fastify, lines } = await loggedServer();
    expect((await fastify.inject({ method: 'GET', url: '/api/found?x=1' })).statusCode).toBe(200);
    expect((await fastify.inject({ method: 'GET', url: '/api/health/ready' })).statusCode).toBe(200);
    expect((await fastify.inject({ method: 'GET', url: '/api/fails' })).statusCode).toBe(500);
    await fastify.close();

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, req: { method: 'GET', url: '/api/found?x=1' }, res: { statusCode: 200 } });
    expect(lines[0].msg).toBe(`GET /api/found?x=1 200 ${lines[0].responseTime}ms`);
    expect(lines[1]).toMatchObject({ level: 50, msg: 'GET /api/fails 500', req: { method: 'GET', url: '/api/fails' }, res: { statusCode: 500 } });
    expect(Object.keys(lines[1].res)).toEqual(['statusCode']);
  });
});
