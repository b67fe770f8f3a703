import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

export class JunctionCrmApi implements ICredentialType {
  name = 'junctionCrmApi';

  displayName = 'Junction CRM API';

  icon = 'file:junctionCrm.svg' as const;

  properties: INodeProperties[] = [
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: '',
      placeholder: 'https://crm.example.com',
      description: 'The address of Junction CRM as n8n reaches it, without /api',
      required: true,
    },
    {
      displayName: 'API Token',
      name: 'apiToken',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        'An API token (jct_…) from POST /api/auth/tokens. Subscribing the trigger needs an admin’s token; reading and writing records needs any user’s.',
      required: true,
    },
    {
      displayName: 'Tenant ID',
      name: 'tenantId',
      type: 'string',
      default: '',
      description: 'Only for sending inbound events: your tenant ID (GET /api/auth/me). Left empty, the node asks the CRM for it.',
    },
    {
      displayName: 'Inbound API Key',
      name: 'inboundApiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'Only for sending inbound events (lead.captured, payment.received, …): the key from POST /api/tenants/current/webhook-api-key',
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: {
      headers: {
        Authorization: '=Bearer {{$credentials.apiToken}}',
      },
    },
  };

  test: ICredentialTestRequest = {
    request: {
      baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "").replace(/\\/api$/, "")}}',
      url: '/api/auth/me',
      method: 'GET',
    },
  };
}
