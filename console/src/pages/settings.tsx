import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api/client';
import { CopyButton, ErrorMessage, Field, formatTime, Loading, ShownValue, TableRegion, useAction, useIsAdmin, useLoad, useMe } from '../ui';

export function SettingsPage() {
  const me = useMe();
  return (
    <>
      <h1>Settings</h1>
      <section class="card" aria-labelledby="tenant-heading">
        <h2 id="tenant-heading">Workspace</h2>
        <dl class="facts">
          <dt>Name</dt>
          <dd>{me.tenant.name}</dd>
          <dt>Tenant id</dt>
          <dd class="row">
            <code>{me.tenant_id}</code>
            <CopyButton text={me.tenant_id} label="Copy tenant id" />
          </dd>
          <dt>You</dt>
          <dd>
            {me.email} ({me.role})
          </dd>
        </dl>
      </section>
      <InboundKey />
      <ApiTokens />
    </>
  );
}

function InboundKey() {
  const me = useMe();
  const admin = useIsAdmin();
  const tenant = useLoad(() => call(api.GET('/api/tenants/current')), []);
  const [grace, setGrace] = useState('0');
  const [shown, setShown] = useState<Schemas['WebhookApiKeyResponseDto'] | null>(null);
  const rotate = useAction(async () => {
    const key = await call(api.POST('/api/tenants/current/webhook-api-key', { body: { grace_seconds: Number(grace) || 0 } }));
    setShown(key);
    tenant.reload();
  });

  return (
    <section class="card" aria-labelledby="inbound-key-heading">
      <h2 id="inbound-key-heading">Inbound API key</h2>
      <p>
        Workflows send events in with <code>X-Tenant-ID</code> and <code>X-API-Key</code> headers. Only a hash of the key is stored: it is shown once, when
        generated.
      </p>
      {tenant.loading && !tenant.data ? (
        <Loading what="the key" />
      ) : (
        <p>
          {tenant.data?.webhook_api_key_set
            ? `Current key: ${tenant.data.webhook_api_key_prefix ?? ''}… (created ${formatTime(tenant.data.webhook_api_key_created_at)})`
            : 'No inbound key yet.'}
        </p>
      )}
      <ErrorMessage error={tenant.error} />
      {admin && (
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void rotate.run();
          }}
        >
          <Field label="Grace period (seconds)" hint="How long the previous key keeps working (0 = stops at once)">
            {(id) => <input id={id} type="number" min={0} max={604800} value={grace} onInput={(e) => setGrace(e.currentTarget.value)} />}
          </Field>
          <button type="submit" disabled={rotate.busy}>
            Rotate inbound API key
          </button>
        </form>
      )}
      <ErrorMessage error={rotate.error} />
      {shown && (
        <div class="once" role="region" aria-label="Inbound API key, shown once">
          <ShownValue label="New inbound API key" value={shown.api_key} note="Copy it now: it will not be shown again." />
          {shown.previous_key_expires_at && <p>The previous key keeps working until {formatTime(shown.previous_key_expires_at)}.</p>}
          <h3>Header values for n8n and Activepieces</h3>
          <p class="muted">In n8n's HTTP Request node (Send Headers) or Activepieces' HTTP piece, add these two headers:</p>
          <ShownValue label="X-Tenant-ID header" value={me.tenant_id} />
          <ShownValue label="X-API-Key header" value={shown.api_key} />
        </div>
      )}
    </section>
  );
}

function ApiTokens() {
  const tokens = useLoad(() => call(api.GET('/api/auth/tokens')), []);
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [created, setCreated] = useState<Schemas['CreatedApiTokenResponseDto'] | null>(null);
  const create = useAction(async () => {
    const body: Schemas['CreateApiTokenDto'] = { name };
    if (days.trim()) body.expires_in_days = Number(days);
    setCreated(await call(api.POST('/api/auth/tokens', { body })));
    setName('');
    setDays('');
    tokens.reload();
  });
  const revoke = useAction(async (token: Schemas['ApiTokenResponseDto']) => {
    if (!confirm(`Revoke the API token "${token.name}"? Workflows using it will get 401.`)) return;
    await call(api.DELETE('/api/auth/tokens/{id}', { params: { path: { id: token.id } } }));
    tokens.reload();
  });

  return (
    <section class="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens for workflows</h2>
      <p>A long-lived token for n8n or Activepieces, sent as <code>Authorization: Bearer &lt;token&gt;</code>. It acts as you.</p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void create.run();
        }}
      >
        <Field label="Token name">{(id) => <input id={id} required maxLength={100} placeholder="n8n production" value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label="Expires in days (optional)">{(id) => <input id={id} type="number" min={1} max={3650} value={days} onInput={(e) => setDays(e.currentTarget.value)} />}</Field>
        <button type="submit" disabled={create.busy}>
          Create API token
        </button>
      </form>
      <ErrorMessage error={create.error} />
      {created && (
        <div class="once" role="region" aria-label="API token, shown once">
          <ShownValue label="New API token" value={created.token} note={`"${created.name}": copy it now, it will not be shown again.`} />
        </div>
      )}
      <ErrorMessage error={tokens.error ?? revoke.error} />
      {tokens.data && tokens.data.data.length === 0 && <p class="muted">No API tokens yet.</p>}
      {tokens.data && tokens.data.data.length > 0 && (
        <TableRegion label="API tokens">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.data.map((token) => (
                <tr key={token.id}>
                  <td>{token.name}</td>
                  <td>
                    <code>{token.prefix}…</code>
                  </td>
                  <td>{formatTime(token.created_at)}</td>
                  <td>{token.last_used_at ? formatTime(token.last_used_at) : 'never'}</td>
                  <td>{token.expires_at ? formatTime(token.expires_at) : 'never'}</td>
                  <td>
                    <button type="button" class="danger small" aria-label={`Revoke ${token.name}`} disabled={revoke.busy} onClick={() => void revoke.run(token)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      )}
    </section>
  );
}
