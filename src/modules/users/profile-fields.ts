import { z } from 'zod';
import type { ProfileField } from '../../db/schema.js';
import { escText } from '../../lib/fields.js';
import { normalisePhone } from '../../lib/phone.js';
import { validateSaIdNumber } from '../../lib/sa-id.js';

/**
 * Validation of the 16 profile fields (docs/contract.md#profile-fields). Every field is
 * optional and nullable (null clears); rules apply to non-empty values; text is trimmed and
 * escaped on write. Numbers are accepted as text, as the original's CharField did.
 */
const asString = z.union([z.string(), z.number().transform(String)]);

const phone = (max: number) =>
  asString.transform((raw, ctx) => {
    if (raw.trim() === '') return '';
    const r = normalisePhone(raw, max);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r.value;
  });

const idNumber = asString.transform((raw, ctx) => {
  if (raw.trim() === '') return '';
  const r = validateSaIdNumber(raw);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.value;
});

const text = (max: number) => asString.pipe(escText(max));
const varchar = (max: number) => asString.pipe(escText(max, { style: 'varchar' }));

export const PROFILE_RULES = {
  id_number: idNumber,
  contact_number: phone(15),
  address: text(500),
  emergency_contact: varchar(255),
  emergency_phone: phone(255),
  diagnosis: text(5000),
  medications: text(5000),
  allergies: text(5000),
  medical_notes: text(10000),
  doctor_name: varchar(255),
  doctor_phone: phone(255),
  accommodations: text(2000),
  assistive_technology: text(2000),
  learning_style: varchar(100),
  support_needs: text(2000),
  communication_preferences: text(2000),
} satisfies Record<ProfileField, z.ZodType>;

/** Body of profile PUT/PATCH and of `intake_data`: unknown keys ignored, null allowed everywhere. */
export const ProfileInput = z.object(
  Object.fromEntries(Object.entries(PROFILE_RULES).map(([k, rule]) => [k, rule.nullable().optional()])) as {
    [K in ProfileField]: z.ZodOptional<z.ZodNullable<(typeof PROFILE_RULES)[K]>>;
  },
);
export type ProfileInputValues = z.infer<typeof ProfileInput>;

/** Medical fields (for INTAKE_REQUIRE_MEDICAL_CONSENT and audit labelling). */
export const MEDICAL_FIELDS: readonly ProfileField[] = [
  'diagnosis',
  'medications',
  'allergies',
  'medical_notes',
  'doctor_name',
  'doctor_phone',
];
