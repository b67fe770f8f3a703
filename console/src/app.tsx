import { useEffect, useState } from 'preact/hooks';
import { api, call, setUnauthorizedHandler } from './api/client';
import { DeliveriesPage } from './pages/deliveries';
import { EventTypesPage } from './pages/event-types';
import { InboundPage } from './pages/inbound';
import { RecordPage } from './pages/record';
import { SettingsPage } from './pages/settings';
import { SignInPage } from './pages/sign-in';
import { SubscriptionsPage } from './pages/subscriptions';
import { href, navigate, useRoute } from './router';
import { clearSession, sessionToken } from './session';
import { ErrorMessage, Loading, type Me, MeContext } from './ui';

const NAV = [
  { path: '/subscriptions', label: 'Subscriptions' },
  { path: '/deliveries', label: 'Deliveries' },
  { path: '/inbound', label: 'Inbound events' },
  { path: '/event-types', label: 'Event types' },
  { path: '/settings', label: 'Settings' },
];

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(sessionToken() !== null);
  const [error, setError] = useState<unknown>(null);

  const loadMe = () => {
    setChecking(true);
    call(api.GET('/api/auth/me'))
      .then((user) => {
        setMe(user);
        setError(null);
      })
      .catch((caught: unknown) => setError(caught))
      .finally(() => setChecking(false));
  };

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    if (sessionToken()) loadMe();
  }, []);

  useEffect(() => {
    const title = NAV.find((item) => route.path.startsWith(item.path))?.label;
    document.title = me ? `${title ?? 'Console'} · Junction CRM` : 'Sign in · Junction CRM';
  }, [route.path, me]);

  if (checking) return <main id="main"><Loading what="your session" /></main>;
  if (!me) {
    return (
      <>
        {error ? <ErrorMessage error={error} /> : null}
        <SignInPage onSignedIn={loadMe} />
      </>
    );
  }

  const signOut = async () => {
    await api.POST('/api/auth/logout').catch(() => undefined);
    clearSession();
    setMe(null);
    navigate('/');
  };

  return (
    <MeContext.Provider value={me}>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('/subscriptions')}>
          Junction CRM
        </a>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => (
              <li key={item.path}>
                <a href={href(item.path)} aria-current={route.path.startsWith(item.path) ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {me.name} · {me.tenant.name} ({me.role})
          </span>
          <button type="button" class="secondary small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={route.path} />
      </main>
    </MeContext.Provider>
  );
}

function Page({ path }: { path: string }) {
  const [, section, id] = path.split('/');
  switch (section) {
    case 'settings':
      return <SettingsPage />;
    case 'deliveries':
      return <DeliveriesPage id={id} />;
    case 'inbound':
      return <InboundPage id={id} />;
    case 'event-types':
      return <EventTypesPage />;
    case 'contacts':
    case 'invoices':
      return <RecordPage kind={section} id={id ?? ''} />;
    case 'subscriptions':
    default:
      return <SubscriptionsPage id={id} />;
  }
}
