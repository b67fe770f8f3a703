import { useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { ErrorMessage, Field, useAction } from '../ui';

function localInputValue(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** "Recover failed since…": re-queues every failed delivery of one subscription created since a time. */
export function RecoverFailed({ subscriptionId, onRecovered }: { subscriptionId: string; onRecovered?: () => void }) {
  const [open, setOpen] = useState(false);
  const [since, setSince] = useState(() => localInputValue(new Date(Date.now() - 24 * 3600_000)));
  const [requeued, setRequeued] = useState<number | null>(null);
  const recover = useAction(async () => {
    const result = await call(api.POST('/api/webhooks/subscriptions/{id}/recover', { params: { path: { id: subscriptionId } }, body: { since: new Date(since).toISOString() } }));
    setRequeued(result.requeued);
    onRecovered?.();
  });
  return (
    <section class="card" aria-label="Recover failed deliveries">
      <button type="button" class="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
        Recover failed since…
      </button>
      {open && (
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void recover.run();
          }}
        >
          <Field label="Failed since" hint="Every failed delivery of this subscription created since then is sent again">
            {(id) => <input id={id} type="datetime-local" required value={since} onInput={(e) => setSince(e.currentTarget.value)} />}
          </Field>
          <button type="submit" disabled={recover.busy}>
            Re-queue failed deliveries
          </button>
        </form>
      )}
      <ErrorMessage error={recover.error} />
      {requeued !== null && <p role="status">{requeued === 1 ? '1 delivery re-queued.' : `${requeued} deliveries re-queued.`}</p>}
    </section>
  );
}
