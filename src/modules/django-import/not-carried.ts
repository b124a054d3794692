/**
 * Tables of the original that are deliberately not carried, and why (docs/migrating-from-django.md#what-is-not-carried).
 * The report lists each with its row count; any other table the importer does not know is a problem.
 */
const SESSIONS =
  'sessions end at the move: everyone signs in again (the original signed its tokens with its own SECRET_KEY)';
const LOCKOUT = 'lock-out counters start afresh at the move (a lock-out in progress ends)';
const ROLES = 'groups and permissions mirror roles; the role is carried';

export const NOT_CARRIED: Readonly<Record<string, string>> = {
  authentication_usersession: SESSIONS,
  token_blacklist_outstandingtoken: SESSIONS,
  token_blacklist_blacklistedtoken: SESSIONS,
  django_session: 'sessions of the Django admin site, which this service replaces',
  axes_accessattempt: LOCKOUT,
  axes_accessfailurelog: LOCKOUT,
  axes_accesslog:
    'sign-ins to the Django admin site: their changes are in auditlog_logentry, which is carried',
  django_admin_log: 'changes made through the Django admin site: also in auditlog_logentry, which is carried',
  auth_group: ROLES,
  auth_group_permissions: ROLES,
  auth_permission: ROLES,
  users_user_groups: ROLES,
  users_user_user_permissions: 'per-user Django permissions: nothing here reads them (the role decides)',
  django_content_type: "Django's own bookkeeping",
  django_migrations: "Django's own bookkeeping",
};
