import { PROFILE_FIELDS } from '../../db/schema.js';
import type { ReadItem } from '../audit/index.js';
import type { UserResponse } from './serialize.js';

/**
 * What a U or P object discloses, for the read audit (docs/privacy.md#read-audit): names only, never values.
 * A U object holds the person's identity and, when they have a profile, all 16 profile fields.
 */
const IDENTITY_FIELDS = ['email', 'first_name', 'last_name'] as const;

export const userReadItem = (user: UserResponse): ReadItem => ({
  subjectUserId: user.id,
  resourceId: user.id,
  fields: user.profile ? [...IDENTITY_FIELDS, ...PROFILE_FIELDS] : IDENTITY_FIELDS,
});

/** A P object (resource `profile`, its row id) of the given user. */
export const profileReadItem = (profileId: number, userId: number): ReadItem => ({
  subjectUserId: userId,
  resourceId: profileId,
  fields: PROFILE_FIELDS,
});
