/**
 * E-mail templates (spec privacy.md §8): plain text and HTML, no sensitive data (no health data,
 * no passwords; a reset link is the only secret and it is single use).
 */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const SYSTEM = 'Personal Support System (PSS)';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c] ?? c,
  );

function render(subject: string, paragraphs: string[], link?: { href: string; label: string }): RenderedMail {
  const text = [
    ...paragraphs,
    ...(link ? [`${link.label}: ${link.href}`] : []),
    '',
    `— ${SYSTEM}, CAPACITI`,
  ].join('\n\n');
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">\n${body}\n${button}\n<p>— ${SYSTEM}, CAPACITI</p></body></html>`;
  return { subject, text, html };
}

const greet = (name: string) => (name ? `Hello ${name},` : 'Hello,');

export const templates = {
  welcome: (d: { name: string; loginUrl: string }) =>
    render(
      'Welcome to PSS Platform!',
      [greet(d.name), 'Your account on the Personal Support System has been created. You can now sign in.'],
      { href: d.loginUrl, label: 'Sign in' },
    ),
  admin_new_user: (d: { email: string; name: string }) =>
    render('New User Registered', [`A new user registered: ${d.name || '(no name)'} <${d.email}>.`]),
  password_reset: (d: { name: string; link: string }) =>
    render(
      'Password Reset Request',
      [
        greet(d.name),
        'We received a request to reset the password of your Personal Support System account.',
        'The link below is valid for 1 hour and can be used once.',
        'If you did not ask for this, ignore this e-mail: your password stays as it is.',
      ],
      { href: d.link, label: 'Reset your password' },
    ),
  password_changed: (d: { name: string; at: string }) =>
    render('Password Changed - PSS System', [
      greet(d.name),
      `The password of your Personal Support System account was changed at ${d.at}.`,
      'Your other sessions have been signed out.',
      'If you did not do this, contact support immediately.',
    ]),
  lockout_alert: (d: { target: string; kind: 'account' | 'address'; minutes: number }) =>
    render('Security Alert – Account Locked', [
      `Sign-in was locked for the ${d.kind} ${d.target} after repeated failed attempts.`,
      `The lock lasts ${d.minutes} minutes.`,
    ]),
  admin_account_created: (d: { email: string; role: string }) =>
    render('Admin Alert', [`A new ${d.role} account was created: ${d.email}.`]),
  new_signin: (d: { name: string; device: string; browser: string; ip: string; at: string }) =>
    render('New sign-in to your PSS account', [
      greet(d.name),
      `Your account was signed in from a device we have not seen before: ${d.device}, ${d.browser || 'unknown browser'}, address ${d.ip || 'unknown'}, at ${d.at}.`,
      'If this was not you, change your password and sign out your other sessions.',
    ]),
  '2fa_enabled': (d: { name: string }) =>
    render('Two-factor authentication enabled', [
      greet(d.name),
      'Two-factor authentication is now on for your account.',
      'If you did not do this, contact support immediately.',
    ]),
  '2fa_disabled': (d: { name: string }) =>
    render('Two-factor authentication disabled', [
      greet(d.name),
      'Two-factor authentication was turned off for your account.',
      'If you did not do this, contact support immediately.',
    ]),
} satisfies Record<string, (d: never) => RenderedMail>;

export type TemplateName = keyof typeof templates;
export type TemplateData<T extends TemplateName> = Parameters<(typeof templates)[T]>[0];
