import type {
  IDataObject,
  IExecuteFunctions,
  IHookFunctions,
  IHttpRequestMethods,
  IHttpRequestOptions,
  ILoadOptionsFunctions,
  IPollFunctions,
  IWebhookFunctions,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'junctionCrmApi';

export type CrmContext = IExecuteFunctions | IHookFunctions | ILoadOptionsFunctions | IPollFunctions | IWebhookFunctions;

export interface CrmCredentials {
  baseUrl: string;
  apiToken: string;
  tenantId?: string;
  inboundApiKey?: string;
}

/** What one CRM call needs; `path` is below /api (e.g. `/contacts`). */
export interface CrmRequest {
  method: IHttpRequestMethods;
  path: string;
  qs?: IDataObject;
  body?: IDataObject;
  headers?: IDataObject;
}

/** The CRM's address as typed into the credential, without a trailing slash or a trailing /api. */
export function normalizeBaseUrl(baseUrl: string): string {
  return String(baseUrl ?? '')
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api$/, '');
}

/** The options for n8n's HTTP helpers. Status errors are not thrown by the helper: crmError() turns them into NodeApiErrors. */
export function toHttpOptions(baseUrl: string, request: CrmRequest): IHttpRequestOptions {
  const options: IHttpRequestOptions = {
    method: request.method,
    url: `${normalizeBaseUrl(baseUrl)}/api${request.path}`,
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
    disableFollowRedirect: true,
    timeout: 30_000,
    headers: { accept: 'application/json', ...(request.headers ?? {}) },
  };
  if (request.qs && Object.keys(request.qs).length > 0) options.qs = request.qs;
  if (request.body !== undefined) options.body = request.body;
  return options;
}

interface FullResponse {
  statusCode: number;
  body: unknown;
  headers?: IDataObject;
}

/** The CRM's error body ({statusCode, error, message, details}) as the parts an n8n error carries. */
export function describeCrmError(status: number, body: unknown): { message: string; description?: string; code: string | number; response: JsonObject } {
  const isObject = !!body && typeof body === 'object' && !Array.isArray(body);
  const text = isObject ? '' : String(body ?? '').slice(0, 200);
  const response: JsonObject = isObject ? (body as JsonObject) : { message: text };
  const fallback = `Junction CRM answered HTTP ${status}${text ? `: ${text}` : ''}`;
  const message = isObject && typeof response.message === 'string' && response.message ? response.message : fallback;
  const details = Array.isArray(response.details)
    ? (response.details as Array<{ field?: string; message?: string }>).map((detail) => (detail.field ? `${detail.field}: ${detail.message}` : String(detail.message)))
    : [];
  const code = typeof response.code === 'string' || typeof response.code === 'number' ? response.code : status;
  return { message, description: details.length ? details.join('; ') : undefined, code, response: { ...response, statusCode: status, code } };
}

function isFullResponse(value: unknown): value is FullResponse {
  return !!value && typeof value === 'object' && typeof (value as FullResponse).statusCode === 'number';
}

/** Sends one request with the credential's Bearer token; returns the parsed body, or throws a NodeApiError with the CRM's message. */
export async function crmRequest<T = any>(this: CrmContext, request: CrmRequest, itemIndex?: number): Promise<T> {
  const credentials = (await this.getCredentials(CREDENTIAL_NAME, itemIndex)) as unknown as CrmCredentials;
  const options = toHttpOptions(credentials.baseUrl, request);
  let response: unknown;
  try {
    response = await this.helpers.httpRequestWithAuthentication.call(this as IExecuteFunctions, CREDENTIAL_NAME, options);
  } catch (error) {
    throw new NodeApiError(this.getNode(), error as JsonObject, {
      message: `Could not reach Junction CRM at ${normalizeBaseUrl(credentials.baseUrl)}: ${(error as Error).message}`,
      itemIndex,
    });
  }
  return unwrap.call(this, response, itemIndex) as T;
}

function unwrap(this: CrmContext, response: unknown, itemIndex?: number): unknown {
  if (!isFullResponse(response)) return response;
  if (response.statusCode >= 400) {
    const { message, description, response: body } = describeCrmError(response.statusCode, response.body);
    const error = new NodeApiError(this.getNode(), body, { message, description, httpCode: String(response.statusCode), itemIndex });
    // The CRM's own error body, for Continue On Fail and for callers that branch on it.
    error.context.crm = body;
    throw error;
  }
  return response.body === '' ? {} : response.body;
}

/** Sends an inbound event with the tenant's X-Tenant-ID and X-API-Key (not the Bearer token). */
export async function inboundRequest(this: IExecuteFunctions, eventName: string, body: IDataObject, idempotencyKey: string | undefined, itemIndex: number): Promise<IDataObject> {
  const credentials = (await this.getCredentials(CREDENTIAL_NAME, itemIndex)) as unknown as CrmCredentials;
  if (!credentials.inboundApiKey) {
    throw new NodeOperationError(
      this.getNode(),
      'The Junction CRM credential has no Inbound API Key: create one with POST /api/tenants/current/webhook-api-key and add it to the credential',
      { itemIndex },
    );
  }
  let tenantId = credentials.tenantId;
  if (!tenantId) {
    const me = await crmRequest.call(this, { method: 'GET', path: '/auth/me' }, itemIndex);
    tenantId = String((me as IDataObject).tenant_id);
  }
  const request = buildInboundRequest(eventName, body, { tenantId, apiKey: credentials.inboundApiKey, idempotencyKey });
  let response: unknown;
  try {
    response = await this.helpers.httpRequest(toHttpOptions(credentials.baseUrl, request));
  } catch (error) {
    throw new NodeApiError(this.getNode(), error as JsonObject, { message: `Could not reach Junction CRM: ${(error as Error).message}`, itemIndex });
  }
  return unwrap.call(this, response, itemIndex) as IDataObject;
}

export const INBOUND_EVENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

export function buildInboundRequest(eventName: string, body: IDataObject, auth: { tenantId: string; apiKey: string; idempotencyKey?: string }): CrmRequest {
  const headers: IDataObject = { 'X-Tenant-ID': auth.tenantId, 'X-API-Key': auth.apiKey, 'content-type': 'application/json' };
  if (auth.idempotencyKey) headers['Idempotency-Key'] = auth.idempotencyKey;
  return { method: 'POST', path: `/webhooks/${encodeURIComponent(eventName)}`, body, headers };
}

/**
 * Lists a collection through its cursor pages: every record with returnAll, else up to `limit`. Each page
 * asks for at most 200 (the CRM's maximum).
 */
export async function crmList(this: IExecuteFunctions, path: string, qs: IDataObject, returnAll: boolean, limit: number, itemIndex: number): Promise<IDataObject[]> {
  const records: IDataObject[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100_000; page++) {
    const request = buildListRequest(path, qs, cursor, returnAll ? 200 : Math.min(200, limit - records.length));
    const response = (await crmRequest.call(this, request, itemIndex)) as { data?: IDataObject[]; next_cursor?: string | null };
    records.push(...(response.data ?? []));
    cursor = response.next_cursor ?? null;
    if (!cursor || (!returnAll && records.length >= limit)) break;
  }
  return returnAll ? records : records.slice(0, limit);
}

export function buildListRequest(path: string, filters: IDataObject, cursor: string | null, pageSize: number): CrmRequest {
  const qs: IDataObject = {};
  for (const [key, value] of Object.entries(filters)) if (value !== undefined && value !== null && value !== '') qs[key] = value;
  qs.limit = Math.max(1, Math.min(200, Math.floor(pageSize)));
  if (cursor) qs.cursor = cursor;
  return { method: 'GET', path, qs };
}
