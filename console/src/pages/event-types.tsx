import { api, call } from '../api/client';
import { ErrorMessage, Json, Loading, useLoad } from '../ui';

export function EventTypesPage() {
  const catalog = useLoad(() => call(api.GET('/api/webhooks/event-types')), []);
  return (
    <>
      <h1>Event types</h1>
      <p class="muted">
        Every event the CRM sends, with an example body. Subscriptions also accept patterns: {catalog.data?.subscribable.filter((name) => name.includes('*')).join(', ')}.
      </p>
      <ErrorMessage error={catalog.error} />
      {catalog.loading && !catalog.data && <Loading what="event types" />}
      {catalog.data?.data.map((type) => (
        <section class="card" key={type.name} aria-labelledby={`type-${type.name}`}>
          <h2 id={`type-${type.name}`}>
            <code>{type.name}</code>
          </h2>
          <p>{type.description}</p>
          <Json label={`Example payload of ${type.name}`} value={type.example} />
        </section>
      ))}
    </>
  );
}
