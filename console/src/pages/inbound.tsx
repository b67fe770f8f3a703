import { api, call } from '../api/client';
import { href, navigate, useRoute, withParams } from '../router';
import { CopyButton, ErrorMessage, Field, formatTime, Json, Loading, Pager, Status, TableRegion, useAction, useIsAdmin, useLoad, useMe, usePoll, SelectFilter } from '../ui';

const STATUSES = ['received', 'processing', 'processed', 'failed', 'ignored'] as const;
type InboundStatus = (typeof STATUSES)[number];

export function InboundPage({ id }: { id?: string }) {
  return id ? <InboundDetail id={id} /> : <InboundList />;
}

function InboundList() {
  const route = useRoute();
  const status = (route.params.get('status') ?? '') as InboundStatus | '';
  const eventName = route.params.get('event_name') ?? '';
  const cursor = route.params.get('cursor') ?? undefined;
  const list = useLoad(
    () => call(api.GET('/api/webhooks/events', { params: { query: { cursor, limit: 50, status: status || undefined, event_name: eventName || undefined } } })),
    [cursor, status, eventName],
  );
  usePoll(Boolean(list.data?.data.some((event) => event.status === 'received' || event.status === 'processing')), list.reload, 1000, 30);
  const filter = (changes: Record<string, string>) => navigate('/inbound', withParams(route, { ...changes, cursor: undefined }));

  return (
    <>
      <h1>Inbound events</h1>
      <p class="muted">Events your workflows sent in, newest first, and what the CRM made of them.</p>
      <div class="filters">
        <SelectFilter label="Status" value={status} any="Any status" options={STATUSES.map((value) => ({ value, label: value }))} onChange={(value) => filter({ status: value })} />
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            const input = event.currentTarget.elements.namedItem('event_name') as HTMLInputElement;
            filter({ event_name: input.value.trim() });
          }}
        >
          <Field label="Event name">{(fieldId) => <input id={fieldId} name="event_name" placeholder="lead.captured" value={eventName} />}</Field>
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading what="inbound events" />}
      {list.data && list.data.data.length === 0 && <p>No inbound events match.</p>}
      {list.data && list.data.data.length > 0 && (
        <TableRegion label="Inbound events">
          <table>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((event) => (
                <tr key={event.id}>
                  <td>
                    <a href={href(`/inbound/${event.id}`)} aria-label={`Inbound ${event.event_name} at ${formatTime(event.received_at)}`}>
                      {formatTime(event.received_at)}
                    </a>
                  </td>
                  <td>
                    <code>{event.event_name}</code>
                  </td>
                  <td>
                    <Status value={event.status} />
                  </td>
                  <td>{event.attempts}</td>
                  <td>{event.error_message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <Pager route={route} nextCursor={list.data?.next_cursor} />
      <HowToSend />
    </>
  );
}

function HowToSend() {
  const me = useMe();
  const url = `${location.origin}/api/webhooks/lead.captured`;
  const curl = [
    `curl -X POST ${url} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H 'X-Tenant-ID: ${me.tenant_id}' \\`,
    `  -H 'X-API-Key: <your inbound API key>' \\`,
    `  -d '{"email":"lead@example.com","first_name":"Ada","source":"website_form"}'`,
  ].join('\n');
  const n8n = [
    'Method: POST',
    `URL: ${url}`,
    'Authentication: None',
    'Send Headers: on',
    `  X-Tenant-ID: ${me.tenant_id}`,
    '  X-API-Key: <your inbound API key>',
    'Send Body: on, Body Content Type: JSON',
    '  Specify Body: Using JSON',
    '  JSON: {"email": "{{ $json.email }}", "source": "n8n"}',
  ].join('\n');
  return (
    <section class="card" aria-labelledby="how-heading">
      <h2 id="how-heading">How to send one</h2>
      <p>
        Any JSON object can be sent to <code>POST /api/webhooks/&lt;event_name&gt;</code>. <code>lead.captured</code> and <code>contact.upsert</code> upsert a contact
        by email; <code>payment.received</code> creates or marks paid an invoice; other names are stored and ignored. Get the key under{' '}
        <a href={href('/settings')}>Settings</a>.
      </p>
      <h3>curl</h3>
      <Json label="curl command" value={curl} />
      <CopyButton text={curl} label="Copy the curl command" />
      <h3>n8n HTTP Request node</h3>
      <Json label="n8n HTTP Request settings" value={n8n} />
      <CopyButton text={n8n} label="Copy the n8n settings" />
    </section>
  );
}

function InboundDetail({ id }: { id: string }) {
  const admin = useIsAdmin();
  const event = useLoad(() => call(api.GET('/api/webhooks/events/{id}', { params: { path: { id } } })), [id]);
  usePoll(event.data?.status === 'received' || event.data?.status === 'processing', event.reload, 1000, 60);
  const retry = useAction(async () => {
    await call(api.POST('/api/webhooks/events/{id}/retry', { params: { path: { id } } }));
    event.reload();
  });
  if (event.loading && !event.data) return <Loading what="the inbound event" />;
  if (!event.data) return <ErrorMessage error={event.error} />;
  const current = event.data;
  const result = current.result as Record<string, unknown> | null;
  const contactId = typeof result?.contact_id === 'string' ? result.contact_id : null;
  const invoiceId = typeof result?.invoice_id === 'string' ? result.invoice_id : null;
  return (
    <>
      <p>
        <a href={href('/inbound')}>← Inbound events</a>
      </p>
      <h1>Inbound event: {current.event_name}</h1>
      <section class="card" aria-label="Inbound event summary">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <Status value={current.status} />
          </dd>
          <dt>Attempts</dt>
          <dd>{current.attempts}</dd>
          <dt>Received</dt>
          <dd>{formatTime(current.received_at)}</dd>
          <dt>Processed</dt>
          <dd>{formatTime(current.processed_at)}</dd>
          <dt>Error message</dt>
          <dd>{current.error_message ?? '—'}</dd>
          {current.idempotency_key && (
            <>
              <dt>Idempotency key</dt>
              <dd>
                <code>{current.idempotency_key}</code>
              </dd>
            </>
          )}
          <dt>Result</dt>
          <dd>
            {result ? <code>{JSON.stringify(result)}</code> : '—'}
            {contactId && (
              <>
                {' '}
                <a href={href(`/contacts/${contactId}`)}>Open contact</a>
              </>
            )}
            {invoiceId && (
              <>
                {' '}
                <a href={href(`/invoices/${invoiceId}`)}>Open invoice</a>
              </>
            )}
          </dd>
        </dl>
        {admin && (current.status === 'failed' || current.status === 'ignored') && (
          <button type="button" disabled={retry.busy} onClick={() => void retry.run()}>
            Retry
          </button>
        )}
        <ErrorMessage error={retry.error} />
      </section>
      <section class="card" aria-labelledby="payload-heading">
        <h2 id="payload-heading">Payload</h2>
        <Json label="Payload" value={current.payload} />
      </section>
    </>
  );
}
