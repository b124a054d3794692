export const ROLES = ['candidate', 'admin', 'superuser'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: set by the auth plugin from a verified access token and a live session. */
export interface Actor {
  userId: number;
  role: Role;
  sessionId: number;
  /** jti of the access token, for logs. */
  tokenId: string;
}

/** Request context that audit events and sessions record. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string;
  requestId: string;
}

export const isStaff = (role: Role) => role === 'admin' || role === 'superuser';
