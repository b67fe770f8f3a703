import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import type { AppConfig } from './config/app.config.js';

const HEALTH_PATH = /^\/api\/health(\/|\?|$)/;

/**
 * The app's JSON logger (nestjs-pino: Nest's Logger writes through pino). Request lines are not written by
 * pino-http's middleware: that runs every request through middie and builds a child logger per request (with
 * its redaction), about 8 % of the CPU of a hot route even when LOG_LEVEL hides the line. logRequests()
 * writes them from a Fastify hook instead.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      // A request or response in a log line is reduced to these fields (never headers or bodies); should a line
      // ever carry headers, credentials stay out.
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
        censor: '[redacted]',
      },
    },
    forRoutes: [],
  };
}

function req(request: FastifyRequest) {
  return { id: request.id, method: request.method, url: request.url };
}

/**
 * One JSON line per request once its response is sent (method, path, status, duration, request id; 5xx at
 * level error), and one for a request the client gave up on. Health probes poll constantly and would drown
 * everything else, so they are not logged. Headers and bodies never are.
 */
export function logRequests(fastify: FastifyInstance, logger: Pino): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!HEALTH_PATH.test(request.url)) {
      const statusCode = reply.statusCode;
      const responseTime = Math.round(reply.elapsedTime);
      // pino-http's serializers (which the root logger has) read the sent response itself.
      const line = { req: req(request), res: reply.raw, responseTime };
      if (statusCode >= 500) logger.error(line, `${request.method} ${request.url} ${statusCode}`);
      else logger.info(line, `${request.method} ${request.url} ${statusCode} ${responseTime}ms`);
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request: FastifyRequest, done: () => void) => {
    logger.info({ req: req(request) }, `${request.method} ${request.url} aborted by the client`);
    done();
  });
}
