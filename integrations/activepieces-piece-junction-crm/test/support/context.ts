import type {
  ActionContext,
  IAction,
  ITrigger,
  InputPropertyMap,
  StaticPropsValue,
  Store,
  TestOrRunHookContext,
  Trigger,
  TriggerHookContext,
} from '@activepieces/pieces-framework';
import { TriggerStrategy } from '@activepieces/pieces-framework';
import { AppConnectionType, ExecutionType, type TriggerPayload } from '@activepieces/shared';
import type { JunctionCrmAuth } from '../../src/lib/auth';

/**
 * The contexts Activepieces' engine hands to a piece, built to the framework's own types: auth as a
 * CustomAuth connection value `{type, props}`, a store backed by a Map, the webhook URL of a real listener.
 */

export interface ConnectionProps {
  base_url: string;
  api_token: string;
  tenant_id?: string;
  inbound_api_key?: string;
}

export type AuthValue = ActionContext<JunctionCrmAuth, InputPropertyMap>['auth'];

export function connection(props: ConnectionProps): AuthValue {
  return { type: AppConnectionType.CUSTOM_AUTH, props: { tenant_id: undefined, inbound_api_key: undefined, ...props } };
}

/** The flow-scoped store, in memory. */
export class MapStore implements Store {
  readonly entries = new Map<string, unknown>();
  async put<T>(key: string, value: T): Promise<T> {
    // Like the engine, keep a copy, not the caller's object.
    this.entries.set(key, JSON.parse(JSON.stringify(value)));
    return value;
  }
  async get<T>(key: string): Promise<T | null> {
    return this.entries.has(key) ? (this.entries.get(key) as T) : null;
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

const server = { apiUrl: 'http://127.0.0.1:1/api/', publicUrl: 'http://127.0.0.1:1/', token: 'engine-token' };
const project = { id: 'project-1', externalId: async () => undefined };
const connections = { get: async () => null };

export type WebhookTrigger<P extends InputPropertyMap> = ITrigger<TriggerStrategy.WEBHOOK, JunctionCrmAuth, P>;

/** The trigger as the webhook trigger it is (createTrigger's return type is a union of every strategy). */
export function asWebhookTrigger<P extends InputPropertyMap>(trigger: Trigger<JunctionCrmAuth, P>): WebhookTrigger<P> {
  if (trigger.type !== TriggerStrategy.WEBHOOK) throw new Error(`${trigger.name} is a ${trigger.type} trigger, not WEBHOOK`);
  return trigger as WebhookTrigger<P>;
}

export interface TriggerHarness<P extends InputPropertyMap> {
  store: MapStore;
  hookContext(): TriggerHookContext<JunctionCrmAuth, P, TriggerStrategy.WEBHOOK>;
  runContext(payload: TriggerPayload): TestOrRunHookContext<JunctionCrmAuth, P, TriggerStrategy.WEBHOOK>;
}

/** One flow's trigger: its props, its webhook URL and its own store, reused by every hook as the engine does. */
export function triggerHarness<P extends InputPropertyMap>(options: { auth: AuthValue; propsValue: StaticPropsValue<P>; webhookUrl: string; flowId?: string }): TriggerHarness<P> {
  const store = new MapStore();
  const flows = {
    list: async () => ({ data: [], next: null, previous: null }),
    current: { id: options.flowId ?? 'flow-1', version: { id: 'flow-version-1' } },
  };
  const base = () => ({
    auth: options.auth,
    propsValue: options.propsValue,
    store,
    project,
    connections,
    flows,
    step: { name: 'trigger' },
    webhookUrl: options.webhookUrl,
    server,
  });
  return {
    store,
    hookContext: () => ({ ...base(), payload: { body: undefined, headers: {}, queryParams: {} } }),
    runContext: (payload) => ({ ...base(), payload, files: { write: async () => 'file://nowhere' } }),
  };
}

/** A step's context for an action run (BEGIN execution). */
export function actionContext<P extends InputPropertyMap>(auth: AuthValue, propsValue: StaticPropsValue<P>): ActionContext<JunctionCrmAuth, P> {
  return {
    executionType: ExecutionType.BEGIN,
    auth,
    propsValue,
    store: new MapStore(),
    project,
    connections,
    flows: { list: async () => ({ data: [], next: null, previous: null }), current: { id: 'flow-1', version: { id: 'flow-version-1' } } },
    step: { name: 'step_1' },
    server,
    tags: { add: async () => undefined },
    files: { write: async () => 'file://nowhere' },
    output: { update: async () => undefined },
    agent: { tools: async () => ({}) },
    run: {
      id: 'run-1',
      stop: () => undefined,
      respond: () => undefined,
      createWaitpoint: async () => ({ id: 'waitpoint-1', resumeUrl: 'http://127.0.0.1:1/resume', buildResumeUrl: () => 'http://127.0.0.1:1/resume' }),
      waitForWaitpoint: () => undefined,
    },
  };
}

/** Runs an action with the given step inputs. */
export function runAction<P extends InputPropertyMap>(action: IAction<JunctionCrmAuth, P>, auth: AuthValue, propsValue: StaticPropsValue<P>): Promise<any> {
  return action.run(actionContext(auth, propsValue)) as Promise<any>;
}

export type PollingTrigger<P extends InputPropertyMap> = ITrigger<TriggerStrategy.POLLING, JunctionCrmAuth, P>;

/** The trigger as the polling trigger it is. */
export function asPollingTrigger<P extends InputPropertyMap>(trigger: Trigger<JunctionCrmAuth, P>): PollingTrigger<P> {
  if (trigger.type !== TriggerStrategy.POLLING) throw new Error(`${trigger.name} is a ${trigger.type} trigger, not POLLING`);
  return trigger as PollingTrigger<P>;
}

export interface PollingHarness<P extends InputPropertyMap> {
  store: MapStore;
  hookContext(): TriggerHookContext<JunctionCrmAuth, P, TriggerStrategy.POLLING>;
  runContext(): TestOrRunHookContext<JunctionCrmAuth, P, TriggerStrategy.POLLING>;
}

/** One flow's polling trigger: its props and its own store, reused by every hook and poll as the engine does. */
export function pollingHarness<P extends InputPropertyMap>(options: { auth: AuthValue; propsValue: StaticPropsValue<P>; flowId?: string }): PollingHarness<P> {
  const store = new MapStore();
  const flows = {
    list: async () => ({ data: [], next: null, previous: null }),
    current: { id: options.flowId ?? 'flow-1', version: { id: 'flow-version-1' } },
  };
  const base = () => ({
    auth: options.auth,
    propsValue: options.propsValue,
    store,
    project,
    connections,
    flows,
    step: { name: 'trigger' },
    server,
    setSchedule: () => undefined,
  });
  return {
    store,
    hookContext: () => base(),
    runContext: () => ({ ...base(), files: { write: async () => 'file://nowhere' } }),
  };
}
