import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { crmList, crmRequest, inboundRequest } from '../shared/api';
import { contactFieldsDescription, contactOperations } from './descriptions/contact';
import { dealFieldsDescription, dealOperations } from './descriptions/deal';
import { inboundFieldsDescription, inboundOperations } from './descriptions/inbound';
import { invoiceFieldsDescription, invoiceOperations } from './descriptions/invoice';
import { planOperation, PlanError, type Plan } from './operations';

export class JunctionCrm implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Junction CRM',
    name: 'junctionCrm',
    icon: 'file:junctionCrm.svg',
    group: ['transform'],
    version: 1,
    subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
    description: 'Create, read, update and delete Junction CRM contacts, deals and invoices, and send inbound events',
    defaults: { name: 'Junction CRM' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: 'junctionCrmApi', required: true }],
    properties: [
      {
        displayName: 'Resource',
        name: 'resource',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Contact', value: 'contact' },
          { name: 'Deal', value: 'deal' },
          { name: 'Inbound Event', value: 'inboundEvent' },
          { name: 'Invoice', value: 'invoice' },
        ],
        default: 'contact',
      },
      contactOperations,
      ...contactFieldsDescription,
      dealOperations,
      ...dealFieldsDescription,
      invoiceOperations,
      ...invoiceFieldsDescription,
      inboundOperations,
      ...inboundFieldsDescription,
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const returnData: INodeExecutionData[] = [];
    for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
      try {
        const resource = this.getNodeParameter('resource', itemIndex) as string;
        const operation = this.getNodeParameter('operation', itemIndex) as string;
        let plan: Plan;
        try {
          plan = planOperation(resource, operation, (name, fallback) => this.getNodeParameter(name, itemIndex, fallback));
        } catch (error) {
          if (error instanceof PlanError) throw new NodeOperationError(this.getNode(), error.message, { itemIndex });
          throw error;
        }
        const records = await carryOut.call(this, plan, itemIndex);
        for (const record of records) returnData.push({ json: record, pairedItem: { item: itemIndex } });
      } catch (error) {
        if (this.continueOnFail()) {
          returnData.push({ json: errorJson(error), pairedItem: { item: itemIndex } });
          continue;
        }
        throw error;
      }
    }
    return [returnData];
  }
}

async function carryOut(this: IExecuteFunctions, plan: Plan, itemIndex: number): Promise<IDataObject[]> {
  switch (plan.kind) {
    case 'request': {
      const response = (await crmRequest.call(this, plan.request, itemIndex)) as IDataObject;
      if (plan.output === 'deleted') return [{ deleted: true, id: decodeURIComponent(plan.request.path.split('/').pop() as string) }];
      return [response];
    }
    case 'list':
      return crmList.call(this, plan.path, plan.filters, plan.returnAll, plan.limit, itemIndex);
    case 'upsertContact':
      return [await upsertContact.call(this, plan.email, plan.fields, itemIndex)];
    case 'inbound':
      return [await inboundRequest.call(this, plan.eventName, plan.body, plan.idempotencyKey, itemIndex)];
  }
}

/** The contact with this email, updated with `fields`; created when there is none (or when another writer raced us to it, updated after all). */
async function upsertContact(this: IExecuteFunctions, email: string, fields: IDataObject, itemIndex: number): Promise<IDataObject> {
  const find = async () =>
    ((await crmRequest.call(this, { method: 'GET', path: '/contacts', qs: { email, limit: 1 } }, itemIndex)) as { data: IDataObject[] }).data[0];
  const update = async (existing: IDataObject) =>
    Object.keys(fields).length === 0
      ? existing
      : ((await crmRequest.call(this, { method: 'PATCH', path: `/contacts/${existing.id as string}`, body: fields }, itemIndex)) as IDataObject);
  const existing = await find();
  if (existing) return update(existing);
  try {
    return (await crmRequest.call(this, { method: 'POST', path: '/contacts', body: { email, ...fields } }, itemIndex)) as IDataObject;
  } catch (error) {
    if ((error as NodeApiError).httpCode !== '409') throw error;
    const created = await find();
    if (!created) throw error;
    return update(created);
  }
}

/** The item a failed operation leaves under Continue On Fail: the CRM's message and code. */
function errorJson(error: unknown): IDataObject {
  if (error instanceof NodeApiError) {
    const response = (error.context.crm ?? {}) as IDataObject;
    return {
      error: error.message,
      code: (response.code as string | number | undefined) ?? (error.httpCode ? Number(error.httpCode) : null),
      ...(error.description ? { description: error.description } : {}),
      ...(Array.isArray(response.details) ? { details: response.details } : {}),
    };
  }
  return { error: (error as Error).message };
}
