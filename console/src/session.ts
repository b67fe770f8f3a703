// The session token lives in this tab's sessionStorage only: never in a URL, never shared with other tabs.
const KEY = 'junction.session';

export function sessionToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveSession(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
