import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** The roles a user of a tenant can have (users.role). */
export const USER_ROLES = ['admin', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** What kind of bearer credential a request came with (access_tokens.kind): a login session or an API token. */
export const ACCESS_TOKEN_KINDS = ['session', 'api'] as const;
export type AccessTokenKind = (typeof ACCESS_TOKEN_KINDS)[number];

/** Who is calling: the first argument of every service method that touches tenant data. */
export interface AuthContext {
  userId: string;
  tenantId: string;
  role: UserRole;
  tokenId: string;
  tokenKind: AccessTokenKind;
}

export interface AuthenticatedRequest {
  auth?: AuthContext;
}

/** Injects the caller's AuthContext, set by the AuthGuard. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.auth) throw new Error('Auth() used on a route the AuthGuard did not authenticate');
  return request.auth;
});
