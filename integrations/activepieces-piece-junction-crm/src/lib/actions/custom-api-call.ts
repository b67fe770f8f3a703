import { createCustomApiCallAction } from '@activepieces/pieces-common';
import { junctionCrmAuth } from '../auth';
import { crmConnection } from '../client';

/** Any route of the API (relative paths start after /api), with the connection's Bearer token added. */
export const customApiCall = createCustomApiCallAction({
  auth: junctionCrmAuth,
  name: 'custom_api_call',
  displayName: 'Custom API Call',
  description: 'Calls any Junction CRM API route with your connection’s token, e.g. GET /contacts/{id} or GET /webhooks/deliveries',
  baseUrl: (auth) => (auth ? `${crmConnection(auth).baseUrl}/api` : ''),
  authMapping: async (auth) => ({ Authorization: `Bearer ${crmConnection(auth).apiToken}` }),
});
