import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerCandidate, STRONG_PASSWORD, type TestApp } from './helpers/app.js';
import { startSmtpServer } from './helpers/smtp.js';

/** Password change and reset by e-mail, end to end through a real SMTP server. */
let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await createTestApp({
    EMAIL_BACKEND: 'smtp',
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_USE_TLS: 'false',
    EMAIL_RETRY_DELAY_SECONDS: '0',
    FRONTEND_URL: 'https://pss.example.org',
  });
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

const post = (url: string, payload: object, token?: string) =>
  t.request({ method: 'POST', url, payload, ...(token ? { token } : {}) });
const NEW_PASSWORD = 'Fresh#Garden-2026-Kite';
const mailsTo = async (email: string, subject: string) => {
  await t.c.jobs.idle();
  return smtp.inbox.filter((m) => m.to.includes(email) && m.subject === subject);
};

describe('password change', () => {
  it('changes the password, keeps this session, ends the others and e-mails the user', async () => {
    const user = await registerCandidate(t);
    const other = await post('/api/auth/login/', { email: user.email, password: user.password });
    const res = await post(
      '/api/auth/password-change/',
      { old_password: user.password, new_password: NEW_PASSWORD },
      user.access,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      message: 'Password changed successfully',
      detail: 'Your password has been updated. You may need to log in again on other devices.',
    });
    expect((await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access })).statusCode).toBe(
      200,
    );
    expect(
      (await t.request({ method: 'GET', url: '/api/auth/me/', token: other.json().access })).statusCode,
    ).toBe(401);
    expect((await post('/api/auth/login/', { email: user.email, password: user.password })).statusCode).toBe(
      401,
    );
    expect((await post('/api/auth/login/', { email: user.email, password: NEW_PASSWORD })).statusCode).toBe(
      200,
    );
    const mails = await mailsTo(user.email, 'Password Changed - PSS System');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('other sessions have been signed out');
  });

  it('answers every problem with the original messages', async () => {
    const user = await registerCandidate(t);
    const cases: [object, Record<string, string[]>][] = [
      [{}, { old_password: ['This field is required.'], new_password: ['This field is required.'] }],
      [
        { old_password: user.password, new_password: 'short' },
        { new_password: ['Ensure this field has at least 8 characters.'] },
      ],
      [
        { old_password: 'Wrong#Old-Passw0rd', new_password: NEW_PASSWORD },
        { old_password: ['Old password is incorrect'] },
      ],
      [
        { old_password: user.password, new_password: user.password },
        { new_password: ['New password cannot be the same as your old password'] },
      ],
    ];
    for (const [payload, errors] of cases) {
      const res = await post('/api/auth/password-change/', payload, user.access);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().detail).toBe('Password change validation failed');
      expect(res.json().errors).toEqual(errors);
    }
    const weak = await post(
      '/api/auth/password-change/',
      { old_password: user.password, new_password: 'password1234' },
      user.access,
    );
    expect(weak.json().errors.new_password).toContain('This password is too common.');
  });

  it('refuses the last five passwords', async () => {
    const user = await registerCandidate(t);
    const passwords = [user.password, 'Amber#River-7731-Xq', 'Birch#Stone-8842-Wv', 'Cedar#Cloud-9953-Ut'];
    for (let i = 1; i < passwords.length; i += 1) {
      const res = await post(
        '/api/auth/password-change/',
        { old_password: passwords[i - 1], new_password: passwords[i] },
        user.access,
      );
      expect(res.statusCode).toBe(200);
    }
    const back = await post(
      '/api/auth/password-change/',
      { old_password: passwords[3], new_password: passwords[0] },
      user.access,
    );
    expect(back.statusCode).toBe(400);
    expect(back.json().errors.new_password).toEqual(['You cannot reuse any of your last 5 passwords.']);
  });
});

describe('password reset', () => {
  it('request → e-mail with link → validate → confirm → login; every session ends; the token works once', async () => {
    const user = await registerCandidate(t);
    const res = await post('/api/auth/password-reset/request/', { email: user.email.toUpperCase() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      message: 'If an account with that email exists, a password reset link has been sent.',
      detail: 'Please check your email for instructions.',
    });
    const [mail] = await mailsTo(user.email, 'Password Reset Request');
    expect(mail).toBeDefined();
    const token = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(mail!.text)?.[1];
    expect(token).toBeDefined();
    expect(mail!.text).toContain('https://pss.example.org/reset-password?token=');

    const valid = await post('/api/auth/password-reset/validate-token/', { token: token! });
    expect(valid.statusCode).toBe(200);
    expect(valid.json()).toEqual({ valid: true, email: user.email, detail: 'Token is valid' });

    const confirm = await post('/api/auth/password-reset/confirm/', {
      token: token!,
      new_password: NEW_PASSWORD,
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json()).toEqual({
      message: 'Password has been reset successfully',
      detail: 'You can now log in with your new password',
    });
    expect((await t.request({ method: 'GET', url: '/api/auth/me/', token: user.access })).statusCode).toBe(
      401,
    );
    expect((await post('/api/auth/login/', { email: user.email, password: NEW_PASSWORD })).statusCode).toBe(
      200,
    );

    const again = await post('/api/auth/password-reset/confirm/', {
      token: token!,
      new_password: 'Other#Password-2026x',
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().detail).toBe('Invalid or expired token');
    const revalidate = await post('/api/auth/password-reset/validate-token/', { token: token! });
    expect(revalidate.json()).toMatchObject({
      valid: false,
      detail: 'Token is invalid, expired, or already used',
    });
  });

  it('answers an unknown address exactly like a known one and sends nothing', async () => {
    await t.c.jobs.idle();
    const before = smtp.inbox.length;
    const res = await post('/api/auth/password-reset/request/', { email: 'nobody.here@capaciti.org.za' });
    expect(res.statusCode).toBe(200);
    await t.c.jobs.idle();
    expect(smtp.inbox.length).toBe(before);
  });

  it('validates input and expires tokens after an hour', async () => {
    expect((await post('/api/auth/password-reset/request/', {})).json().detail).toBe('Email is required');
    const bad = await post('/api/auth/password-reset/request/', { email: 'x@example.com' });
    expect(bad.json()).toMatchObject({
      detail: 'Invalid email',
      errors: { email: ['Email domain must be one of: capaciti.org.za'] },
    });
    expect((await post('/api/auth/password-reset/confirm/', { token: 'x' })).json().detail).toBe(
      'Token and new password are required',
    );
    const weak = await post('/api/auth/password-reset/confirm/', {
      token: 'x',
      new_password: 'password1234',
    });
    expect(weak.json().detail).toBe('Invalid password');
    expect(weak.json().errors.new_password).toContain('This password is too common.');
    expect((await post('/api/auth/password-reset/validate-token/', {})).json()).toMatchObject({
      valid: false,
      detail: 'Token is required',
    });

    const user = await registerCandidate(t);
    await post('/api/auth/password-reset/request/', { email: user.email });
    const [mail] = await mailsTo(user.email, 'Password Reset Request');
    const token = /token=([A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!;
    t.clock.advance(3601);
    const late = await post('/api/auth/password-reset/confirm/', { token, new_password: NEW_PASSWORD });
    expect(late.json().detail).toBe('Invalid or expired token');
  });

  it('refuses the current password and a password containing the name', async () => {
    const user = await registerCandidate(t, { first_name: 'Nomvula' });
    await post('/api/auth/password-reset/request/', { email: user.email });
    const [mail] = await mailsTo(user.email, 'Password Reset Request');
    const token = /token=([A-Za-z0-9_-]{43})/.exec(mail!.text)![1]!;
    const same = await post('/api/auth/password-reset/confirm/', { token, new_password: STRONG_PASSWORD });
    expect(same.json().detail).toBe('New password cannot be old password');
    const named = await post('/api/auth/password-reset/confirm/', {
      token,
      new_password: 'Nomvula#Strong-2026x',
    });
    expect(named.json().detail).toBe('Invalid password');
    expect(named.json().errors.new_password).toContain('Password cannot contain your first name.');
  });

  it('sends a welcome e-mail on registration over real SMTP', async () => {
    const user = await registerCandidate(t);
    const [mail] = await mailsTo(user.email, 'Welcome to PSS Platform!');
    expect(mail).toBeDefined();
    expect(mail!.from).toContain('noreply@capaciti.org.za');
    expect(mail!.html).toContain('<p>');
  });
});
