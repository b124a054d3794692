/**
 * Why a session ended (`sessions.terminated_reason`). Who ends a session with which reason is the
 * table of docs/auth.md#revocation.
 */
export type TerminationReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'force_logout'
  | 'password_change'
  | 'password_reset'
  | 'token_reuse'
  | 'deactivated'
  | 'role_changed'
  | 'erasure';
