import { Body, Controller, Delete, Get, HttpCode, Ip, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth, Public } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { PageQueryDto } from '../common/http/pagination.js';
import { UuidParam } from '../common/http/uuid-param.js';
import { AuthService } from './auth.service.js';
import {
  ApiTokenListDto,
  CreateApiTokenDto,
  CreatedApiTokenResponseDto,
  LoginDto,
  MeResponseDto,
  RegisterDto,
  RegisterResponseDto,
  SessionResponseDto,
} from './dto/auth.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Public()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant with you as its admin, and log in' })
  @ApiCreatedResponse({ type: RegisterResponseDto })
  @ApiErrors(400, 'USER_EMAIL_TAKEN')
  register(@Body() dto: RegisterDto): Promise<RegisterResponseDto> {
    return this.auth.register(dto);
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in; returns a session token', description: 'Repeated failures for one email from one address are locked out for a while (429).' })
  @ApiOkResponse({ type: SessionResponseDto })
  @ApiErrors(400, 'INVALID_CREDENTIALS', 'LOGIN_LOCKED')
  login(@Body() dto: LoginDto, @Ip() ip: string): Promise<SessionResponseDto> {
    return this.auth.login(dto, ip);
  }

  @Post('logout')
  @BearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke the token this request was made with' })
  @ApiNoContentResponse({ description: 'Revoked' })
  logout(@Auth() auth: AuthContext): Promise<void> {
    return this.auth.logout(auth);
  }

  @Get('me')
  @BearerAuth()
  @ApiOperation({ summary: 'You: your user, tenant_id, role and tenant' })
  @ApiOkResponse({ type: MeResponseDto })
  me(@Auth() auth: AuthContext): Promise<MeResponseDto> {
    return this.auth.me(auth);
  }

  @Post('tokens')
  @BearerAuth()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a long-lived API token for a workflow',
    description: 'The token is returned once. It works wherever a session token does, as "Authorization: Bearer <token>".',
  })
  @ApiCreatedResponse({ type: CreatedApiTokenResponseDto })
  @ApiErrors(400)
  createToken(@Auth() auth: AuthContext, @Body() dto: CreateApiTokenDto): Promise<CreatedApiTokenResponseDto> {
    return this.auth.createApiToken(auth, dto);
  }

  @Get('tokens')
  @BearerAuth()
  @ApiOperation({ summary: 'Your API tokens that are still usable (name, prefix, last_used_at; never the token)' })
  @ApiOkResponse({ type: ApiTokenListDto })
  @ApiErrors(400)
  listTokens(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<ApiTokenListDto> {
    return this.auth.listApiTokens(auth, page);
  }

  @Delete('tokens/:id')
  @BearerAuth()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your API tokens' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(400, 'API_TOKEN_NOT_FOUND')
  revokeToken(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    return this.auth.revokeApiToken(auth, id);
  }
}
