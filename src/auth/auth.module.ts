import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { TokenCache } from './token-cache.js';

@Global()
@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  // TokenCache listens through the instance's one PgListener (NotificationsModule, global).
  providers: [AuthService, LoginThrottleService, TokenCache, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
