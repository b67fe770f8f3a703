import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { ContactsBatchService } from './contacts-batch.service.js';
import { ContactBatchDto, ContactBatchQueryDto, ContactBatchResponseDto, MAX_BATCH_CONTACTS } from './dto/contact-batch.dto.js';

@ApiTags('contacts')
@BearerAuth()
@Controller('contacts')
export class ContactsBatchController {
  constructor(private readonly batch: ContactsBatchService) {}

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({
    summary: `Upsert up to ${MAX_BATCH_CONTACTS} contacts by email in one transaction; emits contact.created / contact.updated per effective change`,
    description:
      'Each item is matched by email (any case): a new email creates a contact, a known one is updated with the fields given ' +
      '(custom_fields are merged), an item that changes nothing is `unchanged`. One result per item, in order; a bad item is an ' +
      '`error` result (with `code` and `details`) and does not stop the others, unless `?atomic=true`: then nothing is written and ' +
      'the answer is a 400 (or 409) listing the failed items.',
  })
  @ApiOkResponse({ type: ContactBatchResponseDto })
  @ApiErrors(400, 'CONTACT_EMAIL_TAKEN', 'WRITE_CONFLICT', 413)
  upsert(@Auth() auth: AuthContext, @Body() dto: ContactBatchDto, @Query() query: ContactBatchQueryDto): Promise<ContactBatchResponseDto> {
    return this.batch.upsert(auth, dto, query.atomic ?? false);
  }
}
