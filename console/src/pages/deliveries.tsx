import { api, call, type Schemas } from '../api/client';
import { href, navigate, useRoute, withParams } from '../router';
import { ErrorMessage, formatTime, Json, Loading, Pager, Status, TableRegion, useAction, useIsAdmin, useLoad, usePoll, SelectFilter } from '../ui';
import { RecoverFailed } from './recover-failed';

const STATUSES = ['pending', 'succeeded', 'failed'] as const;
type DeliveryStatus = (typeof STATUSES)[number];

export function DeliveriesPage({ id }: { id?: string }) {
  return id ? <DeliveryDetail id={id} /> : <DeliveryList />;
}

function DeliveryList() {
  const route = useRoute();
  const admin = useIsAdmin();
  const subscriptionId = route.params.get('subscription_id') ?? '';
  const status = (route.params.get('status') ?? '') as DeliveryStatus | '';
  const eventName = route.params.get('event_name') ?? '';
  const cursor = route.params.get('cursor') ?? undefined;
  const subscriptions = useLoad(() => call(api.GET('/api/webhooks/subscriptions', { params: { query: { limit: 200 } } })), []);
  const catalog = useLoad(() => call(api.GET('/api/webhooks/event-types')), []);
  const list = useLoad(
    () =>
      call(
        api.GET('/api/webhooks/deliveries', {
          params: { query: { cursor, limit: 50, subscription_id: subscriptionId || undefined, status: status || undefined, event_name: eventName || undefined } },
        }),
      ),
    [cursor, subscriptionId, status, eventName],
  );
  usePoll(Boolean(list.data?.data.some((delivery) => delivery.status === 'pending')), list.reload, 2000, 30);
  const filter = (changes: Record<string, string>) => navigate('/deliveries', withParams(route, { ...changes, cursor: undefined }));
  const subscriptionLabel = new Map((subscriptions.data?.data ?? []).map((s) => [s.id, `${s.event_name} → ${s.target_url}`]));

  return (
    <>
      <h1>Deliveries</h1>
      <p class="muted">Every event sent to a subscription, newest first, with each attempt.</p>
      <div class="filters">
        <SelectFilter
          label="Subscription"
          value={subscriptionId}
          any="All subscriptions"
          options={[
            ...(subscriptions.data?.data ?? []).map((subscription) => ({ value: subscription.id, label: subscriptionLabel.get(subscription.id) ?? subscription.id })),
            ...(subscriptionId && !subscriptionLabel.has(subscriptionId) ? [{ value: subscriptionId, label: subscriptionId }] : []),
          ]}
          onChange={(value) => filter({ subscription_id: value })}
        />
        <SelectFilter label="Status" value={status} any="Any status" options={STATUSES.map((value) => ({ value, label: value }))} onChange={(value) => filter({ status: value })} />
        <SelectFilter
          label="Event"
          value={eventName}
          any="Any event"
          options={(catalog.data?.data ?? []).map((type) => ({ value: type.name, label: type.name }))}
          onChange={(value) => filter({ event_name: value })}
        />
      </div>
      {admin && subscriptionId && <RecoverFailed subscriptionId={subscriptionId} onRecovered={list.reload} />}
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading what="deliveries" />}
      {list.data && list.data.data.length === 0 && <p>No deliveries match.</p>}
      {list.data && list.data.data.length > 0 && (
        <TableRegion label="Deliveries">
          <table>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last result</th>
                <th scope="col">Subscription</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((delivery) => (
                <tr key={delivery.id}>
                  <td>
                    <a href={href(`/deliveries/${delivery.id}`)} aria-label={`Delivery of ${delivery.event_name} at ${formatTime(delivery.created_at)}`}>
                      {formatTime(delivery.created_at)}
                    </a>
                  </td>
                  <td>
                    <code>{delivery.event_name}</code>
                  </td>
                  <td>
                    <Status value={delivery.status} />
                  </td>
                  <td>{delivery.attempt_count}</td>
                  <td>{lastResult(delivery)}</td>
                  <td class="url small-text">{subscriptionLabel.get(delivery.subscription_id) ?? delivery.subscription_id}</td>
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

function lastResult(delivery: Schemas['DeliveryResponseDto']): string {
  const parts = [delivery.last_status_code !== null ? `HTTP ${delivery.last_status_code}` : '', delivery.last_error ?? ''].filter(Boolean);
  if (delivery.status === 'pending' && delivery.next_attempt_at) parts.push(`next attempt ${formatTime(delivery.next_attempt_at)}`);
  return parts.join(' · ') || '—';
}

function DeliveryDetail({ id }: { id: string }) {
  const admin = useIsAdmin();
  const delivery = useLoad(() => call(api.GET('/api/webhooks/deliveries/{id}', { params: { path: { id } } })), [id]);
  usePoll(delivery.data?.status === 'pending', delivery.reload, 1000, 60);
  const redeliver = useAction(async () => {
    await call(api.POST('/api/webhooks/deliveries/{id}/redeliver', { params: { path: { id } } }));
    delivery.reload();
  });
  if (delivery.loading && !delivery.data) return <Loading what="the delivery" />;
  if (!delivery.data) return <ErrorMessage error={delivery.error} />;
  const current = delivery.data;
  return (
    <>
      <p>
        <a href={href('/deliveries')}>← Deliveries</a>
      </p>
      <h1>Delivery: {current.event_name}</h1>
      <section class="card" aria-label="Delivery summary">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <Status value={current.status} />
            {current.status === 'pending' && current.next_attempt_at && <span class="muted"> next attempt {formatTime(current.next_attempt_at)}</span>}
          </dd>
          <dt>Target URL</dt>
          <dd class="url">{current.target_url}</dd>
          <dt>Event id</dt>
          <dd>
            <code>{current.event_id}</code>
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(current.created_at)}</dd>
          <dt>Completed</dt>
          <dd>{formatTime(current.completed_at)}</dd>
          <dt>Subscription</dt>
          <dd>
            <a href={href(`/subscriptions/${current.subscription_id}`)}>{current.subscription_id}</a>
          </dd>
        </dl>
        {admin && (
          <button type="button" disabled={redeliver.busy} onClick={() => void redeliver.run()}>
            Redeliver
          </button>
        )}
        <ErrorMessage error={redeliver.error} />
      </section>
      <section class="card" aria-labelledby="attempts-heading">
        <h2 id="attempts-heading">Attempts ({current.attempts.length})</h2>
        {current.attempts.length === 0 ? (
          <p class="muted">No attempt yet.</p>
        ) : (
          <TableRegion label="Attempts">
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Status code</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Error code</th>
                  <th scope="col">Error</th>
                  <th scope="col">Response excerpt</th>
                </tr>
              </thead>
              <tbody>
                {current.attempts.map((attempt, index) => (
                  <tr key={index}>
                    <td>{formatTime(attempt.attempted_at)}</td>
                    <td>{attempt.status_code ?? '—'}</td>
                    <td>{attempt.duration_ms} ms</td>
                    <td>{attempt.error_code ?? '—'}</td>
                    <td>{attempt.error_message ?? '—'}</td>
                    <td>
                      <code class="excerpt">{attempt.response_excerpt ?? '—'}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        )}
      </section>
      <section class="card" aria-labelledby="request-heading">
        <h2 id="request-heading">Request as sent</h2>
        <h3>Headers</h3>
        <Json label="Request headers" value={Object.entries(current.request_headers).map(([name, value]) => `${name}: ${value}`).join('\n')} />
        <h3>Payload</h3>
        <Json label="Payload" value={current.payload} />
      </section>
    </>
  );
}
