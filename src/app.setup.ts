import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { logRequests } from './logging.js';
import { serveConsole } from './console/serve-console.js';
import { HttpActivity } from './common/http/http-activity.js';
import { HttpExceptionFilter, type BodyLimitConfig } from './common/http/http-exception.filter.js';
import { StorableTextPipe } from './common/http/storable-text.pipe.js';
import { createValidationPipe } from './common/http/validation.js';
import type { AppConfig } from './config/app.config.js';

export const API_PREFIX = 'api';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The Fastify adapter: body limit, and request ids taken from X-Request-ID when sane, else new UUIDs. */
export function createAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });
}

/** Builds the configured Nest application on `databaseUrl`, ready to listen; used by main.ts and the tests. */
export async function createApp(config: AppConfig, databaseUrl: string): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl), createAdapter(config), {
    // Start-up lines wait for the JSON logger (configureApp prints them through it). A failed start throws
    // to the caller (main.ts prints one line) instead of Nest printing every buffered line and a stack first.
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
    // Fastify's own JSON parser (with the body limit) is used; see configureApp for the accepted types.
    bodyParser: false,
  });
  await configureApp(app, config);
  return app;
}

/** Everything main.ts and the tests share: prefix, pipes, filters, security headers, CORS, Swagger. */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalPipes(new StorableTextPipe(), createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  const fastify = app.getHttpAdapter().getInstance();
  logRequests(fastify, PinoLogger.root);
  // The API speaks JSON only: any other body type is a 415 rather than a string that fails validation.
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  // An empty JSON body is no body: clients such as n8n's HTTP Request node send Content-Type on a DELETE or a
  // body-less action. Anything else goes to Fastify's own parser (prototype-poisoning checks included).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else void parseJson(request, text, done);
  });
  // Inbound webhooks have their own, smaller body limit (413 past INBOUND_MAX_BYTES).
  fastify.addHook('onRoute', (route) => {
    const inbound = route.url === `/${API_PREFIX}/webhooks/:event_name` && ([] as string[]).concat(route.method).includes('POST');
    if (inbound) route.bodyLimit = config.inboundMaxBytes;
    route.config = { ...(route.config as object), bodyLimitVariable: inbound ? 'INBOUND_MAX_BYTES' : 'BODY_LIMIT_BYTES' } satisfies BodyLimitConfig;
  });

  // Security headers: helmet's, computed once (none depends on the request: no CSP nonce), and given to each
  // reply with Fastify's own headers, instead of a dozen setHeader calls per request.
  const securityHeaders = helmetHeaders({
    // Swagger UI needs its inline script and styles.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        // The app speaks plain HTTP (TLS, where there is any, ends at a proxy): upgrading would break the
        // console and Swagger UI when they are opened over http:// on anything but localhost.
        upgradeInsecureRequests: null,
      },
    },
  });
  const activity = app.get(HttpActivity);
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(securityHeaders);
    activity.track(reply.raw);
    done();
  });
  app.enableCors({ origin: config.corsOrigins, exposedHeaders: ['x-request-id', 'retry-after'] });
  await serveConsole(app);
  setupSwagger(app, config);
}

/**
 * The headers helmet's middleware sets with these options, read once from a recording response. Its
 * middleware runs synchronously; one that asks for more (an error, or a header that depends on the request)
 * fails the start instead of going unsent.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: () => undefined,
  };
  let done = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    done = true;
  });
  if (!done) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/** Tags in reading order, each with what it is for. */
const TAGS: Array<[string, string]> = [
  ['auth', 'Register a workspace, log in, and API tokens for workflows (n8n, Activepieces)'],
  ['users', 'The people of your tenant (admins add members)'],
  ['tenants', 'Your tenant and its inbound webhook API key'],
  ['contacts', 'Contacts: create, search, update, delete; each change emits a contact.* event'],
  ['deals', 'Deals and their stages (lead → won/lost); each change emits deal.* events'],
  ['invoices', 'Invoices (open, paid, void); invoice.created and invoice.paid events'],
  ['subscriptions', 'Outbound webhooks: which events go to which URL, signed'],
  ['deliveries', 'The delivery log: every attempt of every outbound webhook; redeliver'],
  ['inbound', 'Inbound webhooks: workflows send events in (X-Tenant-ID + X-API-Key); the events received'],
  ['event types', 'The catalog of events a subscription can receive, each with an example'],
  ['health', 'Liveness, readiness and Prometheus metrics'],
];

function setupSwagger(app: INestApplication, config: AppConfig): void {
  const builder = new DocumentBuilder()
    .setTitle('Junction CRM API')
    .setDescription(
      'A multi-tenant CRM driven by n8n and Activepieces workflows. Authenticate with ' +
        '`Authorization: Bearer <session or API token>` (POST /api/auth/register or /api/auth/login gives one). ' +
        'Inbound webhooks (POST /api/webhooks/{event_name}) use `X-Tenant-ID` + `X-API-Key` instead. ' +
        'Every error body carries a stable `code` (see the ErrorCode schema) to branch on.\n\n' +
        'The [web console](/console/) (keys, subscriptions, the delivery log, inbound events) runs in the browser over this same API.',
    )
    .setVersion(config.version)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque token', description: 'A session token (jcs_…) or API token (jct_…)' },
      'bearer',
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Tenant-ID', description: 'Your tenant id (GET /api/auth/me)' }, 'tenant-id')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'POST /api/tenants/current/webhook-api-key' }, 'api-key');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, {
    jsonDocumentUrl: `${API_PREFIX}/docs-json`,
    customSiteTitle: 'Junction CRM API',
    swaggerOptions: { persistAuthorization: true },
  });
}
