import type { IDataObject } from 'n8n-workflow';
import { INBOUND_EVENT_NAME, type CrmRequest } from '../shared/api';

/**
 * What one item of the action node asks the CRM for, computed from its parameters alone (no I/O), so the
 * request building is testable without n8n. execute() carries the plan out.
 */
export type Plan =
  | { kind: 'request'; request: CrmRequest; output: 'record' | 'deleted' }
  | { kind: 'list'; path: string; filters: IDataObject; returnAll: boolean; limit: number }
  | { kind: 'upsertContact'; email: string; fields: IDataObject }
  | { kind: 'inbound'; eventName: string; body: IDataObject; idempotencyKey?: string };

/** Reads one parameter of the current item (getNodeParameter bound to the item index). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParameterReader = (name: string, fallback?: unknown) => any;

export class PlanError extends Error {}

const RESOURCE_PATHS: Record<string, string> = { contact: '/contacts', deal: '/deals', invoice: '/invoices' };

/** A JSON parameter: n8n hands over a string or an already parsed value. */
export function jsonObject(value: unknown, name: string): IDataObject {
  let parsed = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new PlanError(`${name} is not valid JSON`);
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PlanError(`${name} must be a JSON object`);
  return parsed as IDataObject;
}

/**
 * The fields of a create/update collection as the API wants them: custom_fields parsed, and an empty
 * string for a nullable reference (contact_id, external_id, paid_at) sent as null on update, left out on create.
 */
export function recordFields(collection: IDataObject, mode: 'create' | 'update'): IDataObject {
  const nullable = new Set(['contact_id', 'external_id', 'paid_at', 'first_name', 'last_name', 'email', 'phone', 'company', 'source']);
  const fields: IDataObject = {};
  for (const [key, value] of Object.entries(collection)) {
    if (key === 'custom_fields') {
      fields.custom_fields = jsonObject(value, 'Custom Fields');
      continue;
    }
    if (value === '' || value === undefined || value === null) {
      if (mode === 'update' && nullable.has(key)) fields[key] = null;
      continue;
    }
    fields[key] = value;
  }
  return fields;
}

function id(get: ParameterReader, resource: string): string {
  const value = String(get(`${resource}Id`) ?? '').trim();
  if (!value) throw new PlanError(`${resource.charAt(0).toUpperCase() + resource.slice(1)} ID is empty`);
  return encodeURIComponent(value);
}

export function planOperation(resource: string, operation: string, get: ParameterReader): Plan {
  if (resource === 'inboundEvent') return planInbound(operation, get);
  const base = RESOURCE_PATHS[resource];
  if (!base) throw new PlanError(`Unknown resource ${resource}`);
  switch (operation) {
    case 'get':
      return { kind: 'request', request: { method: 'GET', path: `${base}/${id(get, resource)}` }, output: 'record' };
    case 'delete':
      if (resource === 'invoice') break;
      return { kind: 'request', request: { method: 'DELETE', path: `${base}/${id(get, resource)}` }, output: 'deleted' };
    case 'getAll':
      return {
        kind: 'list',
        path: base,
        filters: (get('filters', {}) as IDataObject) ?? {},
        returnAll: get('returnAll', false) === true,
        limit: Number(get('limit', 50)),
      };
    case 'update': {
      const body = recordFields(get('updateFields', {}) as IDataObject, 'update');
      if (Object.keys(body).length === 0) throw new PlanError('Add at least one field to Update Fields');
      return { kind: 'request', request: { method: 'PATCH', path: `${base}/${id(get, resource)}`, body }, output: 'record' };
    }
    case 'create':
      return { kind: 'request', request: { method: 'POST', path: base, body: createBody(resource, get) }, output: 'record' };
    case 'upsert': {
      if (resource !== 'contact') break;
      const email = String(get('email') ?? '').trim();
      if (!email) throw new PlanError('Email is empty');
      return { kind: 'upsertContact', email, fields: recordFields(get('additionalFields', {}) as IDataObject, 'create') };
    }
    case 'markPaid': {
      if (resource !== 'invoice') break;
      const options = (get('options', {}) as IDataObject) ?? {};
      const body: IDataObject = { status: 'paid' };
      if (options.paid_at) body.paid_at = options.paid_at;
      return { kind: 'request', request: { method: 'PATCH', path: `${base}/${id(get, resource)}`, body }, output: 'record' };
    }
  }
  throw new PlanError(`The operation ${operation} is not supported for ${resource}`);
}

function createBody(resource: string, get: ParameterReader): IDataObject {
  const extra = recordFields(get('additionalFields', {}) as IDataObject, 'create');
  if (resource === 'contact') {
    const email = String(get('email', '') ?? '').trim();
    return email ? { email, ...extra } : extra;
  }
  if (resource === 'deal') return { title: get('title'), ...extra };
  return { number: get('number'), amount: get('amount'), ...extra };
}

function planInbound(operation: string, get: ParameterReader): Plan {
  if (operation !== 'send') throw new PlanError(`The operation ${operation} is not supported for inbound events`);
  const eventType = String(get('eventType'));
  const options = (get('inboundOptions', {}) as IDataObject) ?? {};
  const idempotencyKey = options.idempotencyKey ? String(options.idempotencyKey) : undefined;
  let eventName = eventType;
  let body: IDataObject;
  if (eventType === 'lead.captured') {
    const { extra, ...fields } = (get('leadFields', {}) as IDataObject) ?? {};
    body = { email: get('email'), ...recordFields(fields, 'create'), ...(extra === undefined ? {} : jsonObject(extra, 'Extra Fields')) };
  } else if (eventType === 'payment.received') {
    body = { customer_email: get('customer_email'), invoice_id: get('invoice_id'), amount: get('amount') };
    const currency = String(get('currency', '') ?? '').trim();
    if (currency) body.currency = currency;
  } else {
    eventName = String(get('eventName') ?? '').trim();
    body = jsonObject(get('jsonBody'), 'Body');
  }
  if (!INBOUND_EVENT_NAME.test(eventName)) {
    throw new PlanError(`The event name "${eventName}" is not valid: use lowercase dotted names such as lead.captured or payment.received`);
  }
  return { kind: 'inbound', eventName, body, idempotencyKey };
}
