import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../common/auth/auth-context.js';
import { Tenant } from './tenant.entity.js';
import { TenantResponseDto } from './dto/tenant-response.dto.js';
import { AppError } from '../common/errors/app-error.js';

@Injectable()
export class TenantsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async getCurrent(auth: AuthContext): Promise<TenantResponseDto> {
    return TenantResponseDto.from(await this.findOrFail(auth.tenantId));
  }

  private async findOrFail(id: string): Promise<Tenant> {
    const tenant = await this.dataSource.getRepository(Tenant).findOneBy({ id });
    if (!tenant) throw new AppError('TENANT_NOT_FOUND', `Tenant ${id} not found`);
    return tenant;
  }
}
