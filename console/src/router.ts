import { useEffect, useState } from 'preact/hooks';

// Hash routes (#/deliveries?status=failed&cursor=…): deep links and filters live in the URL, and the server
// needs no fallback route. Only filters and cursors go in the URL, never a token.
export interface Route {
  path: string;
  params: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?', 2);
  return { path: path || '/', params: new URLSearchParams(query) };
}

export function href(path: string, params: Record<string, string | undefined | null> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function navigate(path: string, params: Record<string, string | undefined | null> = {}): void {
  location.hash = href(path, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** The route's params as a plain object, with `changes` applied (an empty value removes a param). */
export function withParams(route: Route, changes: Record<string, string | undefined>): Record<string, string> {
  const next = Object.fromEntries(route.params.entries());
  for (const [key, value] of Object.entries(changes)) {
    if (value) next[key] = value;
    else delete next[key];
  }
  return next;
}
