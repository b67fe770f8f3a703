import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { UuidParam } from '../common/http/uuid-param.js';
import { DealsService } from './deals.service.js';
import { CreateDealDto, DealPageDto, DealResponseDto, ListDealsQueryDto, UpdateDealDto } from './dto/deal.dto.js';

@ApiTags('deals')
@BearerAuth()
@Controller('deals')
export class DealsController {
  constructor(private readonly deals: DealsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a deal; emits deal.created', description: 'contact_id must be one of your contacts (else 400).' })
  @ApiCreatedResponse({ type: DealResponseDto })
  @ApiErrors(400)
  create(@Auth() auth: AuthContext, @Body() dto: CreateDealDto): Promise<DealResponseDto> {
    return this.deals.create(auth, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List deals, newest first; filter with ?stage= and ?contact_id=' })
  @ApiOkResponse({ type: DealPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListDealsQueryDto): Promise<DealPageDto> {
    return this.deals.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a deal' })
  @ApiOkResponse({ type: DealResponseDto })
  @ApiErrors(400, 'DEAL_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<DealResponseDto> {
    return this.deals.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change some fields of a deal; emits deal.updated with the changes, and deal.stage_changed when the stage moved (nothing if nothing changed)',
  })
  @ApiOkResponse({ type: DealResponseDto })
  @ApiErrors(400, 'DEAL_NOT_FOUND')
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateDealDto): Promise<DealResponseDto> {
    return this.deals.update(auth, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a deal; emits deal.deleted with the deal as it was' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 'DEAL_NOT_FOUND')
  remove(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    return this.deals.remove(auth, id);
  }
}
