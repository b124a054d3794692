// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignIn } from './SignIn';

/** The service's answers, as the sign-in page meets them (the end-to-end test meets the real ones). */
function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const requests: { url: string; body: unknown }[] = [];

beforeEach(() => {
  requests.length = 0;
  sessionStorage.clear();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function serve(...answers: Response[]) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      requests.push({
        url: new URL(request.url).pathname,
        body: await request
          .clone()
          .json()
          .catch(() => null),
      });
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next;
    }),
  );
}

describe('sign-in page', () => {
  it('shows the error of a refused password as an alert, and keeps the form', async () => {
    serve(answer(401, { detail: 'Invalid email or password', code: 'invalid_credentials' }));
    render(<SignIn onSignedIn={() => undefined} />);
    await userEvent.type(screen.getByLabelText('E-mail address'), 'staff@capaciti.org.za');
    await userEvent.type(screen.getByLabelText('Password'), 'not-it');
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Invalid email or password');
    expect(screen.getByLabelText('E-mail address')).toBeTruthy();
    expect(requests).toEqual([
      { url: '/api/auth/login/', body: { email: 'staff@capaciti.org.za', password: 'not-it' } },
    ]);
  });

  it('asks for the code when the account has 2FA, and signs in with it', async () => {
    const signedIn = vi.fn();
    serve(
      answer(200, {
        requires_2fa: true,
        email: 'staff@capaciti.org.za',
        message: 'Please enter your 2FA authentication code',
      }),
      answer(200, { access: 'a', refresh: 'r', user: { id: 1, role: 'admin' } }),
    );
    render(<SignIn onSignedIn={signedIn} />);
    await userEvent.type(screen.getByLabelText('E-mail address'), 'Staff@capaciti.org.za');
    await userEvent.type(screen.getByLabelText('Password'), 'pw');
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    const heading = await screen.findByRole('heading', { name: 'Enter your sign-in code' });
    // Focus moves to the new step's heading, so a screen reader announces it.
    expect(document.activeElement).toBe(heading);
    await userEvent.type(screen.getByRole('textbox', { name: 'Code' }), 'ABCD-EFGH-JKLM');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await vi.waitFor(() => {
      expect(signedIn).toHaveBeenCalled();
    });
    expect(requests[1]).toEqual({
      url: '/api/auth/2fa/verify-code/',
      body: { email: 'staff@capaciti.org.za', code: 'ABCD-EFGH-JKLM' },
    });
    expect(sessionStorage.getItem('pss-console-refresh')).toBe('r');
  });

  it('refuses a candidate: the console is for staff', async () => {
    const signedIn = vi.fn();
    serve(answer(200, { access: 'a', refresh: 'r', user: { id: 9, role: 'candidate' } }));
    render(<SignIn onSignedIn={signedIn} />);
    await userEvent.type(screen.getByLabelText('E-mail address'), 'c@capaciti.org.za');
    await userEvent.type(screen.getByLabelText('Password'), 'pw');
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect((await screen.findByRole('alert')).textContent).toContain('This console is for programme staff');
    expect(signedIn).not.toHaveBeenCalled();
    expect(sessionStorage.getItem('pss-console-refresh')).toBeNull();
  });
});
