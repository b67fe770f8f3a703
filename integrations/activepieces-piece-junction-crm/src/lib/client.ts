/**
 * Talking to the CRM's HTTP API. One small fetch-based client rather than pieces-common's httpClient: that
 * one turns off TLS certificate checks for the whole process and logs request bodies on errors, and its
 * errors read "request failed with status 400" where a flow author needs the CRM's own message and code.
 */

/** The connection as the piece uses it, whatever shape Activepieces handed over. */
export interface CrmConnection {
  /** The CRM's root URL without a trailing slash and without `/api`, e.g. https://crm.example.com */
  baseUrl: string;
  apiToken: string;
  tenantId?: string;
  inboundApiKey?: string;
}

export interface ConnectionProps {
  base_url?: unknown;
  api_token?: unknown;
  tenant_id?: unknown;
  inbound_api_key?: unknown;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/**
 * Reads the connection. Triggers, actions and dropdowns get a CustomAuth value as `{type, props}`; the
 * engine calls `validate` with the props themselves. Both are accepted.
 */
export function crmConnection(auth: unknown): CrmConnection {
  const holder = (auth ?? {}) as { props?: unknown };
  const props = (holder.props && typeof holder.props === 'object' ? holder.props : holder) as ConnectionProps;
  const rawUrl = text(props.base_url);
  const apiToken = text(props.api_token);
  if (!rawUrl) throw new Error('The Junction CRM connection has no CRM URL: edit the connection and set it (e.g. https://crm.example.com).');
  if (!apiToken) throw new Error('The Junction CRM connection has no API token: create one with POST /api/auth/tokens and paste it into the connection.');
  return { baseUrl: normaliseBaseUrl(rawUrl), apiToken, tenantId: text(props.tenant_id), inboundApiKey: text(props.inbound_api_key) };
}

/** `https://crm.example.com/api/` → `https://crm.example.com`; refuses anything that is not an http(s) URL. */
export function normaliseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`The CRM URL "${value}" is not a URL: write it in full, e.g. https://crm.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`The CRM URL must start with https:// (or http://), not ${url.protocol}`);
  let path = url.pathname.replace(/\/+$/, '');
  if (path.toLowerCase().endsWith('/api')) path = path.slice(0, -4);
  return `${url.origin}${path}`;
}

export interface CrmErrorDetail {
  field?: string;
  message?: string;
}

/** An error answer of the CRM, with its status, stable `code` and field details. */
export class CrmApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly crmMessage: string,
    readonly details: CrmErrorDetail[] | undefined,
    readonly body: unknown,
  ) {
    super(CrmApiError.describe(status, code, crmMessage, details));
    this.name = 'CrmApiError';
  }

  static describe(status: number, code: string | undefined, message: string, details: CrmErrorDetail[] | undefined): string {
    const fields = (details ?? [])
      .map((detail) => (detail.field ? `${detail.field}: ${detail.message ?? ''}` : detail.message))
      .filter((line): line is string => Boolean(line));
    const said = fields.length > 0 && !fields.every((line) => message.includes(line)) ? `${message} (${fields.join('; ')})` : message;
    return `Junction CRM answered ${status}${code ? ` ${code}` : ''}: ${said}`;
  }
}

export type CrmAuthMode = 'bearer' | 'inbound' | 'none';

export interface CrmRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path from the CRM root, starting with /api */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** bearer (default): the API token; inbound: X-Tenant-ID + X-API-Key. */
  auth?: CrmAuthMode;
  timeoutMs?: number;
}

export interface CrmResponse<T> {
  status: number;
  body: T;
}

export const USER_AGENT = 'activepieces-piece-junction-crm/0.1.0';

/** One call to the CRM. A 2xx resolves with the parsed body; anything else throws a CrmApiError. */
export async function crmRequest<T = any>(connection: CrmConnection, request: CrmRequest): Promise<CrmResponse<T>> {
  const url = new URL(`${connection.baseUrl}${request.path}`);
  for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, String(value));

  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...request.headers };
  const mode = request.auth ?? 'bearer';
  if (mode === 'bearer') headers.authorization = `Bearer ${connection.apiToken}`;
  if (mode === 'inbound') {
    if (!connection.tenantId || !connection.inboundApiKey) {
      throw new Error(
        'Sending inbound events needs the Tenant ID and the Inbound API key in the Junction CRM connection: ' +
          'GET /api/auth/me shows the tenant_id, POST /api/tenants/current/webhook-api-key makes a key.',
      );
    }
    headers['x-tenant-id'] = connection.tenantId;
    headers['x-api-key'] = connection.inboundApiKey;
  }
  let payload: string | undefined;
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(request.body);
  }

  const timeoutMs = request.timeoutMs ?? 30_000;
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method,
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new Error(`Could not reach Junction CRM at ${connection.baseUrl} (${why}): check the CRM URL in the connection.`);
  }

  const raw = await response.text();
  let body: unknown = raw;
  if (raw !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(raw);
    } catch {
      // keep the text
    }
  }
  if (response.status >= 200 && response.status < 300) return { status: response.status, body: (raw === '' ? undefined : body) as T };

  const error = (body && typeof body === 'object' ? body : {}) as { code?: unknown; message?: unknown; details?: unknown };
  const message =
    typeof error.message === 'string'
      ? error.message
      : response.status >= 300 && response.status < 400
        ? `redirected to ${response.headers.get('location') ?? '?'}: the CRM URL in the connection is probably not the CRM's root URL`
        : typeof body === 'string' && body !== ''
          ? body.slice(0, 300)
          : response.statusText || 'no message';
  throw new CrmApiError(
    response.status,
    typeof error.code === 'string' ? error.code : undefined,
    message,
    Array.isArray(error.details) ? (error.details as CrmErrorDetail[]) : undefined,
    body,
  );
}

/** Drops undefined, null and empty-string values: an empty optional field in the step means "leave as it is". */
export function definedFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null && value !== ''));
}
