import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth/auth-context.js';
import { BearerAuth } from '../common/auth/auth.decorators.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';
import { UuidParam } from '../common/http/uuid-param.js';
import { ContactsService } from './contacts.service.js';
import { ContactPageDto, ContactResponseDto, CreateContactDto, ListContactsQueryDto, UpdateContactDto } from './dto/contact.dto.js';

@ApiTags('contacts')
@BearerAuth()
@Controller('contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a contact; emits contact.created', description: 'A duplicate email (any case) is a 409 whose existing_id is the contact holding it.' })
  @ApiCreatedResponse({ type: ContactResponseDto })
  @ApiErrors(400, 'CONTACT_EMAIL_TAKEN')
  create(@Auth() auth: AuthContext, @Body() dto: CreateContactDto): Promise<ContactResponseDto> {
    return this.contacts.create(auth, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List contacts, newest first; search with ?q=, filter with ?email=' })
  @ApiOkResponse({ type: ContactPageDto })
  @ApiErrors(400)
  list(@Auth() auth: AuthContext, @Query() query: ListContactsQueryDto): Promise<ContactPageDto> {
    return this.contacts.list(auth, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a contact' })
  @ApiOkResponse({ type: ContactResponseDto })
  @ApiErrors(400, 'CONTACT_NOT_FOUND')
  get(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<ContactResponseDto> {
    return this.contacts.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of a contact; emits contact.updated with the changes (nothing if nothing changed)' })
  @ApiOkResponse({ type: ContactResponseDto })
  @ApiErrors(400, 'CONTACT_NOT_FOUND', 'CONTACT_EMAIL_TAKEN')
  update(@Auth() auth: AuthContext, @UuidParam('id') id: string, @Body() dto: UpdateContactDto): Promise<ContactResponseDto> {
    return this.contacts.update(auth, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a contact; emits contact.deleted with the contact as it was' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 'CONTACT_NOT_FOUND')
  remove(@Auth() auth: AuthContext, @UuidParam('id') id: string): Promise<void> {
    return this.contacts.remove(auth, id);
  }
}
