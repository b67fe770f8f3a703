import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AccessTokenKind } from '../../auth/access-token.entity.js';
import type { UserRole } from '../../users/user.entity.js';

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
