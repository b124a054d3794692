/**
 * The auth module's public face (other modules, plugins and the root import only this file):
 * sign-in (register, login, refresh, logout, lock-out, CAPTCHA), two-factor authentication,
 * passwords, the session routes and force logout, and the operator commands (docs/auth.md).
 * Tokens and sessions themselves are the sessions module's.
 */
export { authCommands, type AuthCliDeps } from './cli.js';
export { createAuthAdminService, type AuthAdminDeps, type AuthAdminService } from './cli-service.js';
export { passwordRoutes } from './passwords/routes.js';
export { createPasswordService, type PasswordDeps, type PasswordService } from './passwords/service.js';
export { sessionAdminRoutes } from './session-admin/routes.js';
export {
  createSessionAdminService,
  type SessionAdminDeps,
  type SessionAdminService,
} from './session-admin/service.js';
export { createCaptcha, type Captcha } from './sign-in/captcha.js';
export { createLockout, type Lockout, type LockoutEvents } from './sign-in/lockout.js';
export {
  createLoginCompletion,
  type LoginCompletion,
  type LoginCompletionDeps,
} from './sign-in/login-completion.js';
export { loginOutcomeOf, type LoginOutcome } from './sign-in/login-outcome.js';
export { createPendingTwoFactor, type PendingTwoFactor } from './sign-in/pending-2fa.js';
export { authRoutes } from './sign-in/routes.js';
export { createAuthService, type AuthService, type AuthServiceDeps } from './sign-in/service.js';
export { twoFactorRoutes } from './two-factor/routes.js';
export { createTwoFactorService, type TwoFactorDeps, type TwoFactorService } from './two-factor/service.js';
