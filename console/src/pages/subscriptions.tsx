import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { href, navigate, useRoute, withParams } from '../router';
import { ErrorMessage, Field, formatTime, Json, Loading, Pager, ShownValue, Status, TableRegion, useAction, useIsAdmin, useLoad, SelectFilter } from '../ui';
import { RecoverFailed } from './recover-failed';
import { SubscriptionForm } from './subscription-form';

type Subscription = Schemas['SubscriptionResponseDto'];
type TestEventName = NonNullable<Schemas['TestSubscriptionDto']['event_name']>;

export function SubscriptionsPage({ id }: { id?: string }) {
  if (id === 'new') return <NewSubscription />;
  if (id) return <SubscriptionDetail id={id} />;
  return <SubscriptionList />;
}

function SubscriptionList() {
  const route = useRoute();
  const admin = useIsAdmin();
  const enabled = route.params.get('enabled') ?? '';
  const cursor = route.params.get('cursor') ?? undefined;
  const list = useLoad(
    () => call(api.GET('/api/webhooks/subscriptions', { params: { query: { cursor, enabled: enabled === '' ? undefined : enabled === 'true', limit: 50 } } })),
    [cursor, enabled],
  );
  return (
    <>
      <div class="title-row">
        <h1>Subscriptions</h1>
        {admin && (
          <a class="button" href={href('/subscriptions/new')}>
            New subscription
          </a>
        )}
      </div>
      <p class="muted">Each subscription sends one event (or a pattern such as contact.*) to a workflow URL, signed with its secret.</p>
      <div class="filters">
        <SelectFilter
          label="Status"
          value={enabled}
          any="All"
          options={[
            { value: 'true', label: 'Enabled' },
            { value: 'false', label: 'Disabled' },
          ]}
          onChange={(value) => navigate('/subscriptions', withParams(route, { enabled: value, cursor: undefined }))}
        />
      </div>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading what="subscriptions" />}
      {list.data && list.data.data.length === 0 && <p>No subscriptions {enabled ? 'match this filter' : 'yet'}.</p>}
      {list.data && list.data.data.length > 0 && (
        <TableRegion label="Subscriptions">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Target URL</th>
                <th scope="col">Status</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((subscription) => (
                <tr key={subscription.id}>
                  <td>
                    <a href={href(`/subscriptions/${subscription.id}`)}>{subscription.event_name}</a>
                  </td>
                  <td class="url">{subscription.target_url}</td>
                  <td>
                    <Status value={subscription.enabled ? 'enabled' : 'disabled'} />
                    {subscription.disabled_reason && <span class="small-text"> {subscription.disabled_reason}</span>}
                  </td>
                  <td>{subscription.description ?? ''}</td>
                  <td>{formatTime(subscription.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
      <Pager route={route} nextCursor={list.data?.next_cursor} />
    </>
  );
}

function NewSubscription() {
  const [created, setCreated] = useState<(Subscription & { secret?: string }) | null>(null);
  if (created) {
    return (
      <>
        <h1>Subscription created</h1>
        <div class="card once" role="region" aria-label="Subscription created">
          <p>
            <strong>{created.event_name}</strong> → {created.target_url}
          </p>
          {created.secret && <ShownValue label="Signing secret" value={created.secret} note="Verify X-Webhook-Signature (or webhook-signature) with it. Admins can reveal it again." />}
          <a class="button" href={href(`/subscriptions/${created.id}`)}>
            Open the subscription
          </a>
        </div>
      </>
    );
  }
  return (
    <>
      <h1>New subscription</h1>
      <SubscriptionForm onSaved={setCreated} onCancel={() => navigate('/subscriptions')} />
    </>
  );
}

function SubscriptionDetail({ id }: { id: string }) {
  const admin = useIsAdmin();
  const subscription = useLoad(() => call(api.GET('/api/webhooks/subscriptions/{id}', { params: { path: { id } } })), [id]);
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<Schemas['SecretResponseDto'] | null>(null);
  const [testResult, setTestResult] = useState<Schemas['TestDeliveryResultDto'] | null>(null);

  const toggle = useAction(async (enabled: boolean) => {
    await call(api.PATCH('/api/webhooks/subscriptions/{id}', { params: { path: { id } }, body: { enabled } }));
    subscription.reload();
  });
  const reveal = useAction(async () => setSecret(await call(api.GET('/api/webhooks/subscriptions/{id}/secret', { params: { path: { id } } }))));
  const rotate = useAction(async () => {
    if (!confirm('Rotate the signing secret? The old secret keeps signing beside the new one for 24 hours.')) return;
    setSecret(await call(api.POST('/api/webhooks/subscriptions/{id}/rotate-secret', { params: { path: { id } } })));
  });
  const catalog = useLoad(() => call(api.GET('/api/webhooks/event-types')), []);
  const [testEvent, setTestEvent] = useState<TestEventName>('webhook.test');
  const test = useAction(async () => {
    setTestResult(null);
    setTestResult(await call(api.POST('/api/webhooks/subscriptions/{id}/test', { params: { path: { id } }, body: { event_name: testEvent } })));
  });
  const remove = useAction(async () => {
    if (!confirm('Delete this subscription and its delivery log?')) return;
    await call(api.DELETE('/api/webhooks/subscriptions/{id}', { params: { path: { id } } }));
    navigate('/subscriptions');
  });

  if (subscription.loading && !subscription.data) return <Loading what="the subscription" />;
  if (!subscription.data) return <ErrorMessage error={subscription.error} />;
  const current = subscription.data;
  if (editing) {
    return (
      <>
        <h1>Subscription</h1>
        <SubscriptionForm
          existing={current}
          onSaved={() => {
            setEditing(false);
            subscription.reload();
          }}
          onCancel={() => setEditing(false)}
        />
      </>
    );
  }
  const actionError = toggle.error ?? reveal.error ?? rotate.error ?? test.error ?? remove.error;
  return (
    <>
      <p>
        <a href={href('/subscriptions')}>← Subscriptions</a>
      </p>
      <h1>Subscription: {current.event_name}</h1>
      <section class="card" aria-label="Subscription details">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <Status value={current.enabled ? 'enabled' : 'disabled'} />
            {current.disabled_reason && <span> {current.disabled_reason}</span>}
            {current.disabled_at && <span class="muted"> (since {formatTime(current.disabled_at)})</span>}
          </dd>
          <dt>Event</dt>
          <dd>
            <code>{current.event_name}</code>
          </dd>
          <dt>Target URL</dt>
          <dd class="url">{current.target_url}</dd>
          <dt>Description</dt>
          <dd>{current.description ?? '—'}</dd>
          <dt>Custom headers</dt>
          <dd>{Object.keys(current.headers).length ? Object.entries(current.headers).map(([name, value]) => <div key={name}><code>{name}: {value}</code></div>) : '—'}</dd>
          <dt>Id</dt>
          <dd>
            <code>{current.id}</code>
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(current.created_at)}</dd>
        </dl>
        <p>
          <a href={href('/deliveries', { subscription_id: current.id })}>Deliveries of this subscription</a>
        </p>
      </section>
      {admin && (
        <section class="card" aria-labelledby="actions-heading">
          <h2 id="actions-heading">Actions</h2>
          <div class="row wrap">
            <button type="button" class="secondary" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="secondary" disabled={toggle.busy} onClick={() => void toggle.run(!current.enabled)}>
              {current.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" class="secondary" disabled={reveal.busy} onClick={() => void reveal.run()}>
              Reveal secret
            </button>
            <button type="button" class="secondary" disabled={rotate.busy} onClick={() => void rotate.run()}>
              Rotate secret
            </button>
            <button type="button" class="danger" disabled={remove.busy} onClick={() => void remove.run()}>
              Delete
            </button>
          </div>
          <div class="inline-form test-form">
            <Field label="Test event type" hint="webhook.test, or any event's catalog example marked as a test">
              {(fieldId) => (
                <select id={fieldId} value={testEvent} onChange={(e) => setTestEvent(e.currentTarget.value as TestEventName)}>
                  {(catalog.data?.data.map((type) => type.name) ?? ['webhook.test']).map((name) => (
                    <option key={name} value={name}>
                      {name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="button" disabled={test.busy} onClick={() => void test.run()}>
              {test.busy ? 'Sending…' : 'Send test event'}
            </button>
          </div>
          <ErrorMessage error={actionError} />
          {secret && (
            <div class="once" role="region" aria-label="Secrets">
              <ShownValue label="Signing secret" value={secret.secret} />
              {secret.previous_secret && (
                <ShownValue label="Previous secret" value={secret.previous_secret} note={`Still signs beside the new one until ${formatTime(secret.previous_secret_expires_at)}.`} />
              )}
            </div>
          )}
          {testResult && <TestResult result={testResult} />}
        </section>
      )}
      {admin && <RecoverFailed subscriptionId={current.id} />}
    </>
  );
}

function TestResult({ result }: { result: Schemas['TestDeliveryResultDto'] }) {
  return (
    <div class="once" role="region" aria-label="Test result">
      <h3>Test event {result.succeeded ? 'delivered' : 'failed'}</h3>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <Status value={result.succeeded ? 'delivered' : 'failed'} /> {result.status_code !== null ? `HTTP ${result.status_code}` : (result.error_code ?? '')}
        </dd>
        <dt>Duration</dt>
        <dd>{result.duration_ms} ms</dd>
        {result.error_message && (
          <>
            <dt>Error</dt>
            <dd>{result.error_message}</dd>
          </>
        )}
      </dl>
      {result.response_excerpt !== null && <Json label="Test response excerpt" value={result.response_excerpt} />}
      <a href={href(`/deliveries/${result.delivery_id}`)}>Open the delivery</a>
    </div>
  );
}
