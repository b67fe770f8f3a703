import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedRequest, UserRole } from '../common/auth/auth-context.js';
import { IS_PUBLIC, REQUIRED_ROLES } from '../common/auth/auth.decorators.js';
import { AppError } from '../common/errors/app-error.js';
import { AuthService } from './auth.service.js';

/** Global guard: every route needs a valid bearer token unless marked @Public(); @Roles() narrows it. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authService: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new AppError('AUTHENTICATION_REQUIRED', 'Send a session or API token as "Authorization: Bearer <token>"');
    }
    const auth = await this.authService.authenticate(match[1]);
    if (!auth) throw new AppError('INVALID_TOKEN', 'The bearer token is invalid, expired or revoked; log in again or create a new API token');
    request.auth = auth;

    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && !roles.includes(auth.role)) {
      throw new AppError('FORBIDDEN_ROLE', `This action needs the ${roles.join(' or ')} role; you are ${auth.role}`);
    }
    return true;
  }
}
