import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth, Roles } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { PageQueryDto } from '../common/http/pagination.js';
import { UuidParam } from '../common/http/uuid-param.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { UserPageDto, UserResponseDto } from './dto/user-response.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@BearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Create a user in your tenant (admin); emits user.created' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors(400, 'USER_EMAIL_TAKEN')
  create(@Auth() auth: AuthContext, @Body() dto: CreateUserDto): Promise<UserResponseDto> {
    return this.users.create(auth, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List the users of your tenant, newest first' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() page: PageQueryDto): Promise<UserPageDto> {
    return this.users.list(auth, page);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one user of your tenant' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(400, 'USER_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<UserResponseDto> {
    return this.users.get(auth, id);
  }
}
