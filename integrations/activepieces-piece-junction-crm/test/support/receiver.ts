import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  method: string;
  /** As Activepieces hands them to a trigger: lower-case names, string values. */
  headers: Record<string, string>;
  /** The exact bytes that arrived. */
  rawBody: Buffer;
  body: unknown;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for Activepieces' webhook endpoint (context.webhookUrl). It
 * answers 200 and records every request with its exact bytes.
 */
export class Receiver {
  readonly received: ReceivedRequest[] = [];
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      let body: unknown = rawBody.toString('utf8');
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        // keep the text
      }
      this.received.push({ path: request.url ?? '/', method: request.method ?? 'GET', headers, rawBody, body });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
    });
  });
  private port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): ReceivedRequest[] {
    return this.received.filter((request) => request.path === path);
  }

  /** Waits (at most `timeoutMs`) for a request to `path` that `match` accepts, and returns it. */
  async waitFor(path: string, match: (request: ReceivedRequest) => boolean = () => true, timeoutMs = 15_000): Promise<ReceivedRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.on(path).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching request to ${path} within ${timeoutMs} ms (got ${this.on(path).length} there)`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
