import { useState } from 'preact/hooks';
import { api, call } from '../api/client';
import { saveSession } from '../session';
import { ErrorMessage, Field, useAction } from '../ui';

/** Sign in, or create a workspace (register: a new tenant with you as its admin). */
export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [mode, setMode] = useState<'sign-in' | 'register'>('sign-in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [tenantName, setTenantName] = useState('');

  const submit = useAction(async () => {
    const session =
      mode === 'sign-in'
        ? await call(api.POST('/api/auth/login', { body: { email, password } }))
        : await call(api.POST('/api/auth/register', { body: { email, password, name, tenant_name: tenantName } }));
    saveSession(session.token);
    onSignedIn();
  });

  const registering = mode === 'register';
  return (
    <main id="main" class="narrow">
      <p class="brand">Junction CRM console</p>
      <h1>{registering ? 'Create your workspace' : 'Sign in'}</h1>
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          void submit.run();
        }}
      >
        {registering && (
          <>
            <Field label="Your name">{(id) => <input id={id} required autoComplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
            <Field label="Workspace name">{(id) => <input id={id} required autoComplete="organization" value={tenantName} onInput={(e) => setTenantName(e.currentTarget.value)} />}</Field>
          </>
        )}
        <Field label="Email">{(id) => <input id={id} type="email" required autoComplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>
        <Field label="Password" hint={registering ? 'At least 8 characters' : undefined}>
          {(id) => (
            <input id={id} type="password" required autoComplete={registering ? 'new-password' : 'current-password'} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          )}
        </Field>
        <ErrorMessage error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {registering ? 'Create your workspace' : 'Sign in'}
        </button>
      </form>
      <p>
        {registering ? 'Already have an account? ' : 'First time here? '}
        <button
          type="button"
          class="link"
          onClick={() => {
            submit.clear();
            setMode(registering ? 'sign-in' : 'register');
          }}
        >
          {registering ? 'Sign in instead' : 'Create your workspace'}
        </button>
      </p>
    </main>
  );
}
