import createClient, { type Middleware } from 'openapi-fetch';
import { clearSession, sessionToken } from '../session';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** The API client, typed from the OpenAPI document (console/openapi.json → schema.d.ts). */
export const api = createClient<paths>({ baseUrl: location.origin });

let onUnauthorized: () => void = () => undefined;
/** Called when the API answers 401 to a signed-in request (expired or revoked session). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = sessionToken();
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('authorization') && !request.url.endsWith('/auth/login')) {
      clearSession();
      onUnauthorized();
    }
    return response;
  },
};
api.use(auth);

/** An API error body, as the API documents it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: { field?: string; message?: string }[] = [],
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the API's message (and field details). */
export async function call<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await promise;
  } catch (error) {
    throw new ApiError(0, `The server could not be reached (${error instanceof Error ? error.message : String(error)})`);
  }
  if (result.response.ok) return result.data as T;
  const body = (result.error ?? {}) as { message?: unknown; details?: unknown; code?: unknown };
  const message = Array.isArray(body.message) ? body.message.join('; ') : typeof body.message === 'string' ? body.message : `HTTP ${result.response.status}`;
  const details = Array.isArray(body.details) ? (body.details as { field?: string; message?: string }[]) : [];
  throw new ApiError(result.response.status, message, details, typeof body.code === 'string' ? body.code : undefined);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.details.map((detail) => detail.message).filter((text): text is string => typeof text === 'string' && !error.message.includes(text));
    return [error.message, ...fields].join(' · ') + (error.code ? ` (${error.code})` : '');
  }
  return error instanceof Error ? error.message : String(error);
}
