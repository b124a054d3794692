import type { Config } from '../../../config.js';
import { ApiError, withCause } from '../../../lib/errors.js';
import type { Lockout } from './lockout.js';

/**
 * CAPTCHA hook (docs/auth.md#captcha; the original's verifier was never called,
 * docs/contract.md#original-differences item 17). Off unless
 * CAPTCHA_ENABLED; then, after CAPTCHA_TRIGGER_THRESHOLD failures of an address + e-mail, login,
 * register and reset request need a `captcha_token` that the provider confirms.
 */
const VERIFY_URLS = {
  recaptcha: 'https://www.google.com/recaptcha/api/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
} as const;

export type CaptchaAction = 'login' | 'register' | 'password_reset';

const REQUIRED = () =>
  new ApiError(400, 'captcha_required', 'CAPTCHA verification required', undefined, {
    captcha_required: true,
  });

export function createCaptcha(config: Config['captcha'], lockout: Lockout, fetchImpl: typeof fetch = fetch) {
  async function verify(token: string, ip: string | null, action: CaptchaAction): Promise<boolean> {
    const body = new URLSearchParams({ secret: config.secret, response: token });
    if (ip) body.set('remoteip', ip);
    let result: { success?: boolean; score?: number; action?: string };
    try {
      const res = await fetchImpl(config.verifyUrl ?? VERIFY_URLS[config.provider], {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`provider answered ${res.status}`);
      result = (await res.json()) as typeof result;
    } catch (err) {
      throw withCause(
        new ApiError(503, 'service_unavailable', 'CAPTCHA provider unavailable. Please try again later.'),
        err,
      );
    }
    if (result.success !== true) return false;
    if (config.provider === 'recaptcha') {
      // reCAPTCHA v3: a score and the action the page declared.
      if (typeof result.score === 'number' && result.score < config.requiredScore) return false;
      if (typeof result.action === 'string' && result.action !== action) return false;
    }
    return true;
  }

  return {
    async check(
      email: string,
      ip: string | null,
      token: string | undefined,
      action: CaptchaAction,
    ): Promise<void> {
      if (!config.enabled || (ip && config.bypassIps.includes(ip))) return;
      if ((await lockout.failuresForCaptcha(email, ip)) < config.triggerThreshold) return;
      if (typeof token !== 'string' || token.trim() === '' || token.length > 4096) throw REQUIRED();
      if (!(await verify(token.trim(), ip, action))) throw REQUIRED();
    },
  };
}
export type Captcha = ReturnType<typeof createCaptcha>;
