import { Module } from '@nestjs/common';
import { ContactsBatchController } from './contacts-batch.controller.js';
import { ContactsBatchService } from './contacts-batch.service.js';
import { ContactsController } from './contacts.controller.js';
import { ContactsService } from './contacts.service.js';

@Module({
  controllers: [ContactsController, ContactsBatchController],
  providers: [ContactsService, ContactsBatchService],
  exports: [ContactsService],
})
export class ContactsModule {}
