import { api, call } from '../api/client';
import { ErrorMessage, Json, Loading, useLoad } from '../ui';

/** A contact or invoice an inbound event made (linked from its result). */
export function RecordPage({ kind, id }: { kind: 'contacts' | 'invoices'; id: string }) {
  const record = useLoad<unknown>(
    () => (kind === 'contacts' ? call(api.GET('/api/contacts/{id}', { params: { path: { id } } })) : call(api.GET('/api/invoices/{id}', { params: { path: { id } } }))),
    [kind, id],
  );
  const title = kind === 'contacts' ? 'Contact' : 'Invoice';
  return (
    <>
      <p>
        <a href="#/inbound" onClick={(event) => { event.preventDefault(); history.back(); }}>
          ← Back
        </a>
      </p>
      <h1>{title}</h1>
      <ErrorMessage error={record.error} />
      {record.loading && !record.data && <Loading what={title.toLowerCase()} />}
      {record.data !== undefined && <Json label={title} value={record.data} />}
    </>
  );
}
