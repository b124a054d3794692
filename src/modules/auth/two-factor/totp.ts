import * as OTPAuth from 'otpauth';

/** RFC 6238 TOTP as the original (SHA-1, 6 digits, 30 s, window ±1 step). */
export const TOTP_ISSUER = 'PSS Backend';
const PERIOD = 30;

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function provisioningUri(email: string, secret: string): string {
  const issuer = encodeURIComponent(TOTP_ISSUER);
  const label = encodeURIComponent(email).replace(/%40/g, '@');
  return `otpauth://totp/${issuer}:${label}?secret=${secret}&issuer=${issuer}`;
}

/** The time step a code matches within ±1 step of `now`, or null. */
export function matchTotp(secret: string, code: string, now: Date): number | null {
  const totp = new OTPAuth.TOTP({
    issuer: TOTP_ISSUER,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: 1 });
  return delta === null ? null : Math.floor(now.getTime() / 1000 / PERIOD) + delta;
}

/** The current code (tests and the contract check's enrolment use it). */
export function currentTotp(secret: string, now: Date): string {
  return OTPAuth.TOTP.generate({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    timestamp: now.getTime(),
  });
}
