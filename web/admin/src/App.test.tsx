// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';

/**
 * Signing out: the console forgets the session in this tab whether or not the service could be told
 * (the end-to-end test signs out against the real service; here the network fails under it).
 */
const me = { id: 1, email: 'root@capaciti.org.za', first_name: 'Root', last_name: '', role: 'superuser' };
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

beforeEach(() => {
  sessionStorage.clear();
  window.location.hash = '#/jobs';
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function serve(logout: () => Promise<Response>) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn((request: Request) => {
      const path = new URL(request.url).pathname;
      calls.push(`${request.method} ${path}`);
      if (path === '/api/auth/token/refresh/')
        return Promise.resolve(json(200, { access: 'a2', refresh: 'r2' }));
      if (path === '/api/auth/me/') return Promise.resolve(json(200, me));
      if (path === '/api/admin/jobs/failed/') return Promise.resolve(json(200, { count: 0, results: [] }));
      if (path === '/api/auth/logout/') return logout();
      return Promise.resolve(json(404, { detail: 'Not found.' }));
    }),
  );
  return calls;
}

describe('signing out', () => {
  it('ends the session at the service and forgets it in the tab', async () => {
    sessionStorage.setItem('pss-console-refresh', 'r1');
    const calls = serve(() => Promise.resolve(json(200, { message: 'Logged out' })));
    render(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('You have signed out.')).toBeTruthy();
    expect(sessionStorage.getItem('pss-console-refresh')).toBeNull();
    expect(calls).toContain('POST /api/auth/logout/');
  });

  it('forgets the session in the tab even when the service cannot be reached, and says so', async () => {
    sessionStorage.setItem('pss-console-refresh', 'r1');
    serve(() => Promise.reject(new TypeError('Failed to fetch')));
    render(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText(/could not be reached to end the session/)).toBeTruthy();
    expect(sessionStorage.getItem('pss-console-refresh')).toBeNull();
    expect(screen.getByLabelText('E-mail address')).toBeTruthy();
  });
});
