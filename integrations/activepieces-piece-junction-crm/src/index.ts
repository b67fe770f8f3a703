import { createPiece } from '@activepieces/pieces-framework';
import { PieceCategory } from '@activepieces/shared';
import { createContact, findContact, updateContact, upsertContact } from './lib/actions/contacts';
import { customApiCall } from './lib/actions/custom-api-call';
import { createDeal, updateDeal } from './lib/actions/deals';
import { sendInboundEvent } from './lib/actions/inbound';
import { createInvoice, markInvoicePaid } from './lib/actions/invoices';
import { junctionCrmAuth } from './lib/auth';
import { triggers } from './lib/triggers/triggers';

export { junctionCrmAuth } from './lib/auth';
export { verifyStandardWebhook, TIMESTAMP_TOLERANCE_SECONDS } from './lib/signature';
export { CrmApiError } from './lib/client';

// An inline SVG, so the piece shows its logo without depending on any host.
const LOGO =
  'data:image/svg+xml;base64,' +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1f4fd1"/>' +
      '<path d="M20 40a12 12 0 0 0 24 0V18h-8v22a4 4 0 0 1-8 0z" fill="#fff"/></svg>',
  ).toString('base64');

export const junctionCrm = createPiece({
  displayName: 'Junction CRM',
  description: 'Multi-tenant CRM: contacts, deals and invoices, with signed webhooks for every change.',
  auth: junctionCrmAuth,
  minimumSupportedRelease: '0.82.0',
  logoUrl: LOGO,
  authors: ['junction-crm'],
  categories: [PieceCategory.SALES_AND_CRM],
  actions: [
    createContact,
    updateContact,
    findContact,
    upsertContact,
    createDeal,
    updateDeal,
    createInvoice,
    markInvoicePaid,
    sendInboundEvent,
    customApiCall,
  ],
  triggers,
});
