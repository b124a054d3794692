import type { SessionRow } from './repo.js';

/** The session object of docs/auth.md#sessions. */
export function timeSince(last: Date | null, now: Date): string {
  if (!last) return 'Never';
  const seconds = Math.max(0, Math.floor((now.getTime() - last.getTime()) / 1000));
  if (seconds < 60) return 'Just now';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (seconds < 3600) return plural(Math.floor(seconds / 60), 'minute');
  if (seconds < 86400) return plural(Math.floor(seconds / 3600), 'hour');
  return plural(Math.floor(seconds / 86400), 'day');
}

export function sessionResponse(
  s: SessionRow,
  currentId: number | null,
  now: Date,
  fmt: (d: Date) => string,
) {
  const expired = now >= s.expiresAt || now >= s.absoluteExpiresAt;
  return {
    id: s.id,
    session_key: s.sessionKey,
    device_type: s.deviceType,
    browser: s.browser,
    os: s.os,
    user_agent: s.userAgent,
    ip_address: s.ipAddress,
    country: s.country,
    city: s.city,
    created_at: fmt(s.createdAt),
    last_activity: fmt(s.lastActivity),
    expires_at: fmt(s.expiresAt),
    is_active: s.terminatedAt === null && !expired,
    is_expired: expired,
    is_suspicious: s.isSuspicious,
    is_current: s.id === currentId,
    time_since_activity: timeSince(s.lastActivity, now),
  };
}
export type SessionResponse = ReturnType<typeof sessionResponse>;
