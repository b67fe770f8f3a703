/**
 * Every `code` an error body can carry: one stable UPPER_SNAKE_CASE value per situation a client can act on,
 * with the HTTP status it is sent with. Documented in OpenAPI (ErrorResponse.code) and docs/errors.md.
 * Add a code here (and to docs/errors.md) rather than reusing one that means something else.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, description: 'A field is missing or invalid; `details` names each field at fault' },
  MALFORMED_JSON: { status: 400, description: 'The body is not valid JSON' },
  INVALID_PATH_PARAMETER: { status: 400, description: 'A path parameter is malformed (ids are UUIDs)' },
  INVALID_CURSOR: { status: 400, description: 'The cursor is not one this API returned' },
  TARGET_NOT_ALLOWED: { status: 400, description: 'The webhook target URL points at a private address or cannot be resolved' },
  AUTHENTICATION_REQUIRED: { status: 401, description: 'No bearer token was sent' },
  INVALID_TOKEN: { status: 401, description: 'The bearer token is invalid, expired or revoked' },
  INVALID_CREDENTIALS: { status: 401, description: 'Email or password is wrong' },
  INBOUND_UNAUTHORIZED: { status: 401, description: 'X-Tenant-ID or X-API-Key is missing or wrong' },
  FORBIDDEN_ROLE: { status: 403, description: 'The caller lacks the role this route needs' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route has this method and path' },
  CONTACT_NOT_FOUND: { status: 404, description: "No such contact in the caller's tenant" },
  DEAL_NOT_FOUND: { status: 404, description: "No such deal in the caller's tenant" },
  INVOICE_NOT_FOUND: { status: 404, description: "No such invoice in the caller's tenant" },
  USER_NOT_FOUND: { status: 404, description: "No such user in the caller's tenant" },
  TENANT_NOT_FOUND: { status: 404, description: 'No such tenant' },
  API_TOKEN_NOT_FOUND: { status: 404, description: 'No such API token of the caller' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, description: "No such webhook subscription in the caller's tenant" },
  DELIVERY_NOT_FOUND: { status: 404, description: "No such webhook delivery in the caller's tenant" },
  INBOUND_EVENT_NOT_FOUND: { status: 404, description: "No such inbound event in the caller's tenant" },
  EVENT_NOT_FOUND: { status: 404, description: "No such domain event in the caller's tenant (or no longer kept)" },
  CONTACT_EMAIL_TAKEN: { status: 409, description: 'Another contact has this email (any case); `existing_id` is that contact' },
  USER_EMAIL_TAKEN: { status: 409, description: 'A user with this email exists; `existing_id` is that user' },
  INVOICE_NUMBER_TAKEN: { status: 409, description: 'Another invoice has this number; `existing_id` is that invoice' },
  INVOICE_EXTERNAL_ID_TAKEN: { status: 409, description: 'Another invoice has this external_id; `existing_id` is that invoice' },
  SUBSCRIPTION_TARGET_TAKEN: { status: 409, description: 'Another subscription has this event_name and target_url; `existing_id` is that subscription' },
  INVOICE_VOID: { status: 409, description: 'The invoice is void and cannot change status' },
  INBOUND_EVENT_NOT_RETRYABLE: { status: 409, description: 'The inbound event was processed already; only failed or ignored ones can be retried' },
  WRITE_CONFLICT: { status: 409, description: 'A concurrent write got there first; retrying the request is safe' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the limit the message names' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The body is not sent as application/json' },
  LOGIN_LOCKED: { status: 429, description: 'Too many failed logins for this email from this address; retry after Retry-After seconds' },
  INBOUND_RATE_LIMITED: { status: 429, description: "The tenant's inbound rate limit is exceeded; retry after Retry-After seconds" },
  RATE_LIMITED: { status: 429, description: 'Too many requests; retry after Retry-After seconds' },
  INTERNAL_ERROR: { status: 500, description: 'A bug: logged with the request id the message names' },
  DATABASE_UNAVAILABLE: { status: 503, description: 'The database cannot be reached; retry after Retry-After seconds' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The code a bare HTTP status maps to, for errors raised outside our code (Fastify, Nest's router). */
export const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'AUTHENTICATION_REQUIRED',
  403: 'FORBIDDEN_ROLE',
  404: 'ROUTE_NOT_FOUND',
  409: 'WRITE_CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'DATABASE_UNAVAILABLE',
};
