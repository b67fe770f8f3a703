import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body bytes as text, exactly as sent. */
  rawBody: string;
  body: any;
  receivedAt: number;
}

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds to wait before answering; Infinity never answers. */
  delayMs?: number;
  /** Sends the status, headers and body but never ends the response. */
  unfinished?: boolean;
}

/**
 * A real HTTP server on 127.0.0.1 (random port) that records every request it gets. By default it answers
 * 200; `respond(path, fn)` scripts answers per path (e.g. 500, 500, then 200).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly server: http.Server;
  private readonly scripts = new Map<string, (count: number) => ScriptedResponse>();
  private readonly counts = new Map<string, number>();
  private readonly waiters: Array<() => void> = [];
  private readonly hanging = new Set<http.ServerResponse>();
  port = 0;

  constructor() {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown = rawBody;
        try {
          body = JSON.parse(rawBody);
        } catch {
          // not JSON: keep the text
        }
        this.received.push({ path, headers: request.headers, rawBody, body, receivedAt: Date.now() });
        const count = (this.counts.get(path) ?? 0) + 1;
        this.counts.set(path, count);
        for (const waiter of this.waiters.splice(0)) waiter();
        const script = this.scripts.get(path)?.(count) ?? {};
        const answer = () => {
          this.hanging.delete(response);
          response.writeHead(script.status ?? 200, { 'content-type': 'text/plain', ...script.headers });
          if (!script.unfinished) return response.end(script.body ?? 'ok');
          response.write(script.body ?? 'ok');
          this.hanging.add(response);
        };
        if (script.delayMs === Infinity) this.hanging.add(response);
        else if (script.delayMs) setTimeout(answer, script.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Scripts the answers for one path; `fn` gets the 1-based number of the request to that path. */
  respond(path: string, fn: (count: number) => ScriptedResponse): void {
    this.scripts.set(path, fn);
  }

  on(path: string): ReceivedWebhook[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Waits until `predicate` holds over what was received, or fails after `timeoutMs`. */
  async waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms; received ${this.received.length} request(s)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
