import { randomUUID } from 'node:crypto';
import { n8nCall, type N8nProcess } from './n8n.js';

/** n8n's public API (/api/v1) as the e2e drives it, plus what an execution's data says. */

export interface WorkflowNode {
  id?: string;
  name: string;
  type: string;
  typeVersion: number;
  position: [number, number];
  parameters: Record<string, unknown>;
  credentials?: Record<string, { id: string; name: string }>;
  webhookId?: string;
  [key: string]: unknown;
}

export interface Workflow {
  name: string;
  nodes: WorkflowNode[];
  connections: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function createCredential(n8n: N8nProcess, name: string, type: string, data: Record<string, unknown>): Promise<string> {
  // n8n adds "Allowed HTTP Request Domains" to the credentials of nodes' own types; without "all" its schema also
  // asks for allowedDomains. Generic types (Header Auth, Custom Auth) do not have it, and refuse it.
  let response = await n8nCall(n8n, 'POST', '/api/v1/credentials', { name, type, data: { ...data, allowedHttpRequestDomains: 'all' } });
  if (response.status === 400 && String(response.body?.message).includes('additional property "allowedHttpRequestDomains"')) {
    response = await n8nCall(n8n, 'POST', '/api/v1/credentials', { name, type, data });
  }
  if (response.status !== 200) throw new Error(`create credential ${type}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

export async function createWorkflow(n8n: N8nProcess, workflow: Workflow): Promise<string> {
  const body = {
    name: workflow.name,
    nodes: workflow.nodes.map((node) => ({ id: node.id ?? randomUUID(), ...node })),
    connections: workflow.connections,
    settings: { executionOrder: 'v1', ...(workflow.settings ?? {}) },
  };
  const response = await n8nCall(n8n, 'POST', '/api/v1/workflows', body);
  if (response.status !== 200) throw new Error(`create workflow "${workflow.name}": ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/**
 * Activates a workflow, then waits until its production webhook answers something other than 404: n8n 2.x
 * registers webhooks after the API has answered.
 */
export async function activate(n8n: N8nProcess, workflowId: string, webhookUrl: string): Promise<void> {
  const response = await n8nCall(n8n, 'POST', `/api/v1/workflows/${workflowId}/activate`);
  if (response.status !== 200) throw new Error(`activate ${workflowId}: ${response.status} ${JSON.stringify(response.body)}\n${n8n.output.slice(-3000)}`);
  await waitFor(`${webhookUrl} to be registered`, async () => {
    const probe = await fetch(webhookUrl, { method: 'GET', signal: AbortSignal.timeout(5_000) });
    const text = await probe.text();
    // Registered for POST only: some versions answer GET with 404 "not registered for GET requests", others otherwise.
    return probe.status !== 404 || text.includes('not registered for GET');
  });
}

/**
 * Deactivates a workflow, then waits until its production webhook is gone (404 "not registered", not "not
 * registered for GET"): n8n 2.x removes webhooks, and calls the triggers' delete(), after the API has answered.
 */
export async function deactivate(n8n: N8nProcess, workflowId: string, webhookUrl: string): Promise<void> {
  const response = await n8nCall(n8n, 'POST', `/api/v1/workflows/${workflowId}/deactivate`);
  if (response.status !== 200) throw new Error(`deactivate ${workflowId}: ${response.status} ${JSON.stringify(response.body)}`);
  await waitFor(`${webhookUrl} to be removed`, async () => {
    const probe = await fetch(webhookUrl, { method: 'GET', signal: AbortSignal.timeout(5_000) });
    const text = await probe.text();
    return probe.status === 404 && !text.includes('not registered for GET');
  });
}

export interface Execution {
  id: string;
  status: string;
  finished: boolean;
  mode: string;
  data?: { resultData: { runData: Record<string, Array<{ data?: { main: Array<Array<{ json: any }> | null> }; error?: { message: string; [key: string]: unknown } }>>; lastNodeExecuted?: string; error?: { message: string } } };
}

export async function executions(n8n: N8nProcess, workflowId: string): Promise<Execution[]> {
  const response = await n8nCall<{ data: Execution[] }>(n8n, 'GET', `/api/v1/executions?workflowId=${workflowId}&includeData=true&limit=100`);
  if (response.status !== 200) throw new Error(`executions: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.data;
}

const FINISHED = new Set(['success', 'error', 'crashed', 'canceled']);

/** Waits until the workflow has `count` finished executions; returns them, oldest first. */
export async function finishedExecutions(n8n: N8nProcess, workflowId: string, count: number, timeoutMs = 30_000): Promise<Execution[]> {
  return waitFor(`${count} finished execution(s) of workflow ${workflowId}`, async () => {
    const all = (await executions(n8n, workflowId)).filter((execution) => FINISHED.has(execution.status));
    return all.length >= count ? all.sort((a, b) => Number(a.id) - Number(b.id)) : undefined;
  }, timeoutMs);
}

/** The items a node output (its first run, first output), or undefined when it did not run. */
export function nodeOutput(execution: Execution, nodeName: string): any[] | undefined {
  const run = execution.data?.resultData.runData[nodeName]?.[0];
  if (!run) return undefined;
  return (run.data?.main?.[0] ?? []).map((item) => item.json);
}

export function nodeError(execution: Execution, nodeName: string): string | undefined {
  return execution.data?.resultData.runData[nodeName]?.[0]?.error?.message;
}

export function ranNodes(execution: Execution): string[] {
  return Object.keys(execution.data?.resultData.runData ?? {});
}
