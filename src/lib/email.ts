/**
 * E-mail checks of the original (docs/auth.md#registration, docs/auth.md#allowed-e-mail-domains). Addresses are trimmed and lower-cased.
 */
export type EmailCheck = { ok: true; value: string } | { ok: false; message: string };

// Close to Django's EmailValidator: dot-atom local part, hostname labels and a TLD.
const LOCAL = /^[-!#$%&'*+/=?^_`{}|~0-9a-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*$/;
const DOMAIN = /^((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$/;

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function domainMessage(allowed: string[]): string {
  return `Email domain must be one of: ${allowed.join(', ')}`;
}

export function checkEmail(raw: string, allowedDomains: string[]): EmailCheck {
  const value = normaliseEmail(raw);
  if (!value.includes('@')) return { ok: false, message: 'Invalid email format' };
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (value.length > 254 || local.length > 64 || !LOCAL.test(local) || !DOMAIN.test(domain)) {
    return { ok: false, message: 'Enter a valid email address.' };
  }
  if (allowedDomains.length > 0 && !allowedDomains.includes(domain)) {
    return { ok: false, message: domainMessage(allowedDomains) };
  }
  return { ok: true, value };
}
