/**
 * E-mail templates (docs/privacy.md#e-mails): plain text and HTML, no sensitive data (no health data,
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
  export_ready: (d: { name: string; link: string; apiPath: string; hours: number }) =>
    render(
      'Your PSS data export is ready',
      [
        greet(d.name),
        'The copy of your personal information that you asked for (your POPIA right of access) is ready.',
        `The download link below expires in ${String(d.hours)} hours and works once. Until then you can also download it from your account while signed in.`,
        `Direct download (API): ${d.apiPath}`,
        'If you did not ask for this export, contact support immediately.',
      ],
      { href: d.link, label: 'Download your data' },
    ),
  // Deletion requests and retention (docs/privacy.md#deletion-requests, #retention, #e-mails).
  deletion_received: (d: { name: string; requestedAt: string }) =>
    render('Your data deletion request has been received', [
      greet(d.name),
      `We received your request of ${d.requestedAt} to delete your personal data from the Personal Support System.`,
      'An administrator will review it and you will receive an e-mail with the decision.',
      'Until it is carried out you can cancel the request from your account.',
    ]),
  deletion_approved: (d: { name: string; scheduledFor: string; signInUrl: string }) =>
    render(
      'Your data deletion request has been approved',
      [
        greet(d.name),
        'Your request to delete your personal data from the Personal Support System has been approved.',
        `Your data will be deleted on ${d.scheduledFor}: your journal entries, profile, notes about you, consents and sessions are deleted and your account is closed. This cannot be undone.`,
        'Changed your mind? Sign in before that date and cancel the request from your account (privacy settings).',
      ],
      { href: d.signInUrl, label: 'Sign in to cancel' },
    ),
  deletion_rejected: (d: { name: string; reason: string }) =>
    render('Your data deletion request has been rejected', [
      greet(d.name),
      'Your request to delete your personal data from the Personal Support System has been rejected.',
      `Reason: ${d.reason}`,
      'Your data has not been deleted. You may contact us or submit a new request.',
    ]),
  deletion_completed: (d: { name: string; completedAt: string }) =>
    render('Your data deletion request has been completed', [
      greet(d.name),
      `Your personal data was deleted from the Personal Support System on ${d.completedAt}.`,
      'Your journal entries, profile, notes about you, consents and sessions have been deleted and your account is closed. No copy of your data can be read any more.',
      'This is the last e-mail you will receive from us.',
    ]),
  inactive_first_warning: (d: { name: string; years: number; date: string; loginUrl: string }) =>
    render(
      'Your PSS Account Will Be Deleted in 30 Days',
      [
        greet(d.name),
        `Your Personal Support System account has not been used for ${String(d.years)} years.`,
        `Under our data retention policy it will be deleted on ${d.date}, with all its data, including your journal entries.`,
        'To keep your account, simply log in before that date.',
      ],
      { href: d.loginUrl, label: 'Log in to keep your account' },
    ),
  inactive_final_warning: (d: { name: string; date: string; daysLeft: number; loginUrl: string }) =>
    render(
      '⚠️ FINAL WARNING: Your PSS Account Will Be Deleted in 7 Days',
      [
        greet(d.name),
        `Your inactive Personal Support System account will be deleted on ${d.date} (in ${String(d.daysLeft)} days), with all its data, including your journal entries.`,
        'Log in now to keep your account. This is the last reminder.',
      ],
      { href: d.loginUrl, label: 'Log in now' },
    ),
  account_deleted: (d: { name: string; years: number; registerUrl: string }) =>
    render(
      'Your PSS Account Has Been Deleted',
      [
        greet(d.name),
        `Your Personal Support System account was deleted because it had not been used for ${String(d.years)} years.`,
        'All its data, including your journal entries, has been deleted.',
        'You are welcome to register again at any time.',
      ],
      { href: d.registerUrl, label: 'Register again' },
    ),
} satisfies Record<string, (d: never) => RenderedMail>;

export type TemplateName = keyof typeof templates;
export type TemplateData<T extends TemplateName> = Parameters<(typeof templates)[T]>[0];
