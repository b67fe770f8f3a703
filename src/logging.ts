import type { Params } from 'nestjs-pino';
import type { AppConfig } from './config/app.config.js';

const HEALTH_PATH = /^(\/api)?\/health(\/|\?|$)/;

/** One JSON line per request (method, path, status, duration, request id); credentials are redacted. */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
        censor: '[redacted]',
      },
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      customSuccessMessage: (request, response, time) => `${request.method} ${request.url} ${response.statusCode} ${Math.round(time)}ms`,
      customErrorMessage: (request, response) => `${request.method} ${request.url} ${response.statusCode}`,
      // Health probes poll constantly; they would drown everything else.
      // (Middleware sees the URL without the /api prefix, so originalUrl is checked too.)
      autoLogging: {
        ignore: (request) => HEALTH_PATH.test((request as { originalUrl?: string }).originalUrl ?? request.url ?? ''),
      },
    },
  };
}
