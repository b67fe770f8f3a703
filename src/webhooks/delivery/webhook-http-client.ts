import { Axios, AxiosError } from 'axios';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { assertLiteralTargetAllowed, BlockedTargetError, guardedLookup } from '../../common/net/ssrf-guard.js';

export type AttemptErrorCode = 'E_TIMEOUT' | 'E_CONNECTION' | 'E_DNS' | 'E_HTTP' | 'E_BLOCKED_TARGET';

/** What one HTTP attempt gave: enough to log it, store it and decide on a retry. */
export interface AttemptResult {
  succeeded: boolean;
  statusCode: number | null;
  durationMs: number;
  errorCode: AttemptErrorCode | null;
  errorMessage: string | null;
  responseExcerpt: string | null;
  /** Seconds the receiver asked us to wait (Retry-After), when it said so. */
  retryAfterSeconds: number | null;
}

export const RESPONSE_EXCERPT_BYTES = 2048;

/**
 * The first RESPONSE_EXCERPT_BYTES of a response body, then the stream is destroyed (the rest is never read).
 * Listeners rather than an async iterator: no promise per chunk on a path every delivery takes.
 */
function readExcerpt(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    // Once, on whichever comes first: the end (a 'close' follows it), an error (a body cut short still leaves what
    // was read; the status code is what decides the outcome), a close without an end, or enough read.
    const finish = () => {
      if (finished) return;
      finished = true;
      stream.destroy();
      resolve(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'));
    };
    stream.on('data', (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(buffer);
      size += buffer.length;
      if (size >= RESPONSE_EXCERPT_BYTES) finish();
    });
    stream.once('end', finish);
    stream.once('error', finish);
    stream.once('close', finish);
  });
}

/** Retry-After as seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: unknown): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function classify(error: unknown): { code: AttemptErrorCode; message: string } {
  if (error instanceof BlockedTargetError) return { code: 'E_BLOCKED_TARGET', message: error.message };
  const cause = error instanceof AxiosError ? ((error.cause as NodeJS.ErrnoException | undefined) ?? error) : (error as NodeJS.ErrnoException);
  if (cause instanceof BlockedTargetError || (cause as { code?: string }).code === 'E_BLOCKED_TARGET') {
    return { code: 'E_BLOCKED_TARGET', message: cause.message };
  }
  const code = (error as { code?: string }).code ?? (cause as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED' || /timeout/i.test(message)) {
    return { code: 'E_TIMEOUT', message: `No response within the timeout (${message})` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { code: 'E_DNS', message: `DNS lookup failed (${code})` };
  return { code: 'E_CONNECTION', message: `${code || 'Connection failed'}: ${message}` };
}

/**
 * Sends webhook requests: keep-alive agents, a hard timeout over the whole exchange, no redirects,
 * at most 2 KB of the response read, and the SSRF guard on the address actually connected to.
 */
export class WebhookHttpClient {
  private readonly client: Axios;

  constructor(
    private readonly timeoutMs: number,
    private readonly allowPrivateTargets: boolean,
  ) {
    const lookup = allowPrivateTargets ? undefined : guardedLookup;
    // keepAliveMsecs as axios sets it on every request's socket (60 s): Node skips a setKeepAlive that changes
    // nothing, so the agent's own call on each freed socket no longer undoes axios's (two setsockopt per request).
    const agentOptions = { keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 256, maxFreeSockets: 64, lookup } as http.AgentOptions;
    // An Axios of its own (not axios.create, which starts from axios's global defaults): each request's config is
    // merged with this one only, and there are no method buckets of default headers to flatten. That merge and the
    // header handling were a fifth of the CPU a delivery's request cost (bench/README.md, the eleventh session).
    this.client = new Axios({
      // Node's http/https (the agents and the guarded lookup above), without looking for the others each time.
      adapter: 'http',
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent(agentOptions),
      maxRedirects: 0,
      // No axios `timeout` (a connect timer and a socket timer per request): the AbortSignal in post() is the
      // one deadline, over the whole exchange.
      responseType: 'stream',
      validateStatus: () => true,
      // The body is sent as signed, and the response is read here (readExcerpt): nothing to transform either way.
      transformRequest: [],
      transformResponse: [],
      decompress: true,
      proxy: false,
    });
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      if (!this.allowPrivateTargets) assertLiteralTargetAllowed(new URL(url));
      const response = await this.client.request<Readable>({ method: 'post', url, data: body, headers, signal: AbortSignal.timeout(this.timeoutMs) });
      const excerpt = await readExcerpt(response.data);
      const statusCode = response.status;
      const succeeded = statusCode >= 200 && statusCode < 300;
      return {
        succeeded,
        statusCode,
        durationMs: elapsed(),
        errorCode: succeeded ? null : 'E_HTTP',
        errorMessage: succeeded ? null : `Endpoint answered HTTP ${statusCode}`,
        responseExcerpt: excerpt,
        retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
      };
    } catch (error) {
      const { code, message } = classify(error);
      return { succeeded: false, statusCode: null, durationMs: elapsed(), errorCode: code, errorMessage: message, responseExcerpt: null, retryAfterSeconds: null };
    }
  }
}
