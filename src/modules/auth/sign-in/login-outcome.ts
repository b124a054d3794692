import { ApiError } from '../../../lib/errors.js';

/**
 * How a sign-in attempt ended, as the metrics count it (`auth_logins_total{outcome}`,
 * docs/operations.md#metrics). PRIVACY: a bounded set of labels, never an e-mail or an id.
 */
export type LoginOutcome =
  | 'success'
  | '2fa_required'
  | '2fa_setup_required'
  | 'password_expired'
  | 'invalid_credentials'
  | 'locked'
  | 'captcha_required'
  | 'invalid_input'
  /** 503: the password-hashing gate at capacity, or a dependency unreachable. */
  | 'unavailable'
  | 'error';

const LOGIN_ERROR_OUTCOMES: Record<string, LoginOutcome> = {
  invalid_credentials: 'invalid_credentials',
  locked_out: 'locked',
  captcha_required: 'captcha_required',
  '2fa_setup_required': '2fa_setup_required',
  password_expired: 'password_expired',
  validation_error: 'invalid_input',
  service_unavailable: 'unavailable',
};

/** The outcome label of a sign-in that ended with this error. */
export function loginOutcomeOf(err: unknown): LoginOutcome {
  return (err instanceof ApiError && LOGIN_ERROR_OUTCOMES[err.code]) || 'error';
}
