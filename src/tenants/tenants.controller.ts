import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth } from '../common/auth/auth.decorators.js';
import { TenantResponseDto } from './dto/tenant-response.dto.js';
import { TenantsService } from './tenants.service.js';

@ApiTags('tenants')
@BearerAuth()
@Controller('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get('current')
  @ApiOperation({ summary: 'Your tenant' })
  @ApiOkResponse({ type: TenantResponseDto })
  getCurrent(@Auth() auth: AuthContext): Promise<TenantResponseDto> {
    return this.tenants.getCurrent(auth);
  }
}
