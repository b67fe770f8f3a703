import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { ErrorMessage, Field, useAction, useLoad } from '../ui';

type Subscription = Schemas['SubscriptionResponseDto'];

/** "Name: value" lines ↔ a header object. An existing (masked) value left as is keeps the stored one out of the request. */
function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const colon = trimmed.indexOf(':');
    if (colon <= 0) throw new Error(`Custom headers: "${trimmed}" is not "Name: value"`);
    headers[trimmed.slice(0, colon).trim()] = trimmed.slice(colon + 1).trim();
  }
  return headers;
}

/** Create or edit a subscription: event from the catalog, target URL, description, custom headers, enabled. */
export function SubscriptionForm({ existing, onSaved, onCancel }: { existing?: Subscription; onSaved: (subscription: Subscription & { secret?: string }) => void; onCancel?: () => void }) {
  const catalog = useLoad(() => call(api.GET('/api/webhooks/event-types')), []);
  const [eventName, setEventName] = useState(existing?.event_name ?? 'contact.created');
  const [targetUrl, setTargetUrl] = useState(existing?.target_url ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const maskedHeaders = existing ? Object.keys(existing.headers).map((name) => `${name}: ${existing.headers[name]}`).join('\n') : '';
  const [headersText, setHeadersText] = useState(maskedHeaders);

  const save = useAction(async () => {
    const body: Schemas['CreateSubscriptionDto'] = { event_name: eventName as Schemas['CreateSubscriptionDto']['event_name'], target_url: targetUrl, enabled };
    if (description.trim() || existing?.description) body.description = description.trim();
    // Unchanged masked values cannot be sent back; only send headers when the text was edited.
    if (headersText !== maskedHeaders) body.headers = parseHeaders(headersText);
    const saved = existing
      ? await call(api.PATCH('/api/webhooks/subscriptions/{id}', { params: { path: { id: existing.id } }, body }))
      : await call(api.POST('/api/webhooks/subscriptions', { body }));
    onSaved(saved);
  });

  const descriptions = new Map((catalog.data?.data ?? []).map((type) => [type.name, type.description]));
  return (
    <form
      class="card"
      aria-label={existing ? 'Edit subscription' : 'New subscription'}
      onSubmit={(event) => {
        event.preventDefault();
        void save.run();
      }}
    >
      <h2>{existing ? 'Edit subscription' : 'New subscription'}</h2>
      <Field label="Event" hint={descriptions.get(eventName) ?? (eventName.endsWith('*') ? 'Every matching event' : undefined)}>
        {(id) => (
          <select id={id} value={eventName} onChange={(e) => setEventName(e.currentTarget.value)}>
            {(catalog.data?.subscribable ?? [eventName]).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Target URL" hint="The workflow's webhook URL (n8n Webhook node, Activepieces trigger), answering POST">
        {(id) => <input id={id} type="url" required placeholder="https://your-n8n-instance.com/webhook/…" value={targetUrl} onInput={(e) => setTargetUrl(e.currentTarget.value)} />}
      </Field>
      <Field label="Description">{(id) => <input id={id} maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}</Field>
      <Field label="Custom headers" hint={'One "Name: value" per line, sent with every delivery (e.g. for n8n Header Auth). Stored encrypted, shown masked.'}>
        {(id) => <textarea id={id} rows={3} class="mono" placeholder="X-N8N-Auth: a-shared-secret" value={headersText} onInput={(e) => setHeadersText(e.currentTarget.value)} />}
      </Field>
      <div class="check">
        <input id="subscription-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <label for="subscription-enabled">Enabled</label>
      </div>
      <ErrorMessage error={save.error ?? catalog.error} />
      <div class="row">
        <button type="submit" disabled={save.busy}>
          {existing ? 'Save changes' : 'Create subscription'}
        </button>
        {onCancel && (
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
