import { PieceAuth, Property } from '@activepieces/pieces-framework';
import { CrmApiError, crmConnection, crmRequest } from './client';

export interface MeResponse {
  id: string;
  email: string;
  role: string;
  tenant_id: string;
  tenant?: { id: string; name: string };
}

const description = `
Connect to your Junction CRM.

- **CRM URL**: the CRM's root address as Activepieces reaches it, without \`/api\` (e.g. \`https://crm.example.com\`).
- **API token**: a long-lived token made with \`POST /api/auth/tokens\` (it starts with \`jct_\`). Triggers subscribe
  webhooks, which needs the token of an **admin** of the tenant; actions work with any user's token.
- **Tenant ID** and **Inbound API key**: only for the *Send Inbound Event* action. \`GET /api/auth/me\` shows the
  \`tenant_id\`; \`POST /api/tenants/current/webhook-api-key\` makes a key (it starts with \`jck_\`).
`;

/** Checks the connection with GET /api/auth/me and answers with something a person can act on. */
export async function validateConnection(auth: unknown): Promise<{ valid: true } | { valid: false; error: string }> {
  let connection;
  try {
    connection = crmConnection(auth);
  } catch (error) {
    return { valid: false, error: (error as Error).message };
  }
  try {
    const { body: me } = await crmRequest<MeResponse>(connection, { method: 'GET', path: '/api/auth/me', timeoutMs: 15_000 });
    if (!me || typeof me !== 'object' || typeof me.tenant_id !== 'string') {
      return { valid: false, error: `${connection.baseUrl}/api/auth/me did not answer like Junction CRM: check the CRM URL (the root address, without /api).` };
    }
    if (connection.tenantId && connection.tenantId !== me.tenant_id) {
      return { valid: false, error: `The Tenant ID ${connection.tenantId} is not the tenant of this API token (${me.tenant_id}): copy tenant_id from GET /api/auth/me, or leave the field empty.` };
    }
    return { valid: true };
  } catch (error) {
    if (error instanceof CrmApiError) {
      if (error.status === 401) {
        const status = error.code ? `401 ${error.code}` : '401';
        return { valid: false, error: `Junction CRM refused the API token (${status}): it is mistyped, revoked or expired. Create a new one with POST /api/auth/tokens and paste it here.` };
      }
      if (error.status === 404) {
        return { valid: false, error: `There is no Junction CRM API at ${connection.baseUrl}/api (404): the CRM URL must be the CRM's root address, without /api.` };
      }
      return { valid: false, error: error.message };
    }
    return { valid: false, error: (error as Error).message };
  }
}

export const junctionCrmAuth = PieceAuth.CustomAuth({
  displayName: 'Junction CRM connection',
  description,
  required: true,
  props: {
    base_url: Property.ShortText({
      displayName: 'CRM URL',
      description: "The CRM's root address, without /api, e.g. https://crm.example.com",
      required: true,
    }),
    api_token: PieceAuth.SecretText({
      displayName: 'API token',
      description: 'A token from POST /api/auth/tokens (jct_…). Triggers need an admin’s token.',
      required: true,
    }),
    tenant_id: Property.ShortText({
      displayName: 'Tenant ID',
      description: 'Only for sending inbound events: tenant_id from GET /api/auth/me',
      required: false,
    }),
    inbound_api_key: PieceAuth.SecretText({
      displayName: 'Inbound API key',
      description: 'Only for sending inbound events: from POST /api/tenants/current/webhook-api-key (jck_…)',
      required: false,
    }),
  },
  validate: async ({ auth }) => validateConnection(auth),
});

export type JunctionCrmAuth = typeof junctionCrmAuth;
