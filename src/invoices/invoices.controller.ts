import { Body, Controller, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { UuidParam } from '../common/http/uuid-param.js';
import { CreateInvoiceDto, InvoicePageDto, InvoiceResponseDto, ListInvoicesQueryDto, UpdateInvoiceDto } from './dto/invoice.dto.js';
import { InvoicesService } from './invoices.service.js';

@ApiTags('invoices')
@BearerAuth()
@Controller('invoices')
export class InvoicesController {
  constructor(private readonly invoices: InvoicesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create an invoice; emits invoice.created (and invoice.paid when created paid)',
    description: 'A duplicate number or external_id is a 409 whose existing_id is the invoice holding it; contact_id must be one of your contacts (else 400).',
  })
  @ApiCreatedResponse({ type: InvoiceResponseDto })
  @ApiErrors(400, 'INVOICE_NUMBER_TAKEN', 'INVOICE_EXTERNAL_ID_TAKEN')
  create(@Auth() auth: AuthContext, @Body() dto: CreateInvoiceDto): Promise<InvoiceResponseDto> {
    return this.invoices.create(auth, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List invoices, newest first; filter with ?status=, ?contact_id= and ?external_id=' })
  @ApiOkResponse({ type: InvoicePageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListInvoicesQueryDto): Promise<InvoicePageDto> {
    return this.invoices.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an invoice' })
  @ApiOkResponse({ type: InvoiceResponseDto })
  @ApiErrors(400, 'INVOICE_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<InvoiceResponseDto> {
    return this.invoices.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change an invoice: mark it paid (emits invoice.paid) or void, or correct its fields',
    description:
      'status=paid sets paid_at to now unless given; leaving paid clears paid_at unless given. A void invoice cannot be paid or reopened (409). ' +
      'Invoices are never deleted: void them instead.',
  })
  @ApiOkResponse({ type: InvoiceResponseDto })
  @ApiErrors(400, 'INVOICE_NOT_FOUND', 'INVOICE_NUMBER_TAKEN', 'INVOICE_EXTERNAL_ID_TAKEN', 'INVOICE_VOID')
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateInvoiceDto): Promise<InvoiceResponseDto> {
    return this.invoices.update(auth, id, dto);
  }
}
