import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { UserRole } from './auth-context.js';
import { ApiErrors } from '../http/api-errors.decorator.js';

export const IS_PUBLIC = 'junction:isPublic';
export const REQUIRED_ROLES = 'junction:roles';

/** The route takes no bearer token (it authenticates another way, or not at all). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** The route needs a bearer token of a user with one of these roles. */
export const Roles = (...roles: UserRole[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_ROLES, roles), ApiErrors(403));

/** OpenAPI: the controller's routes take a bearer token and may answer 401. */
export const BearerAuth = (): MethodDecorator & ClassDecorator => applyDecorators(ApiBearerAuth('bearer'), ApiErrors(401));
