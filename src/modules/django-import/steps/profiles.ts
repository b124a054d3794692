import { sql } from 'drizzle-orm';
import { sealProfileColumns, type ProfilePlain } from '../../../db/sealed-records.js';
import { PROFILE_FIELDS } from '../../../db/schema.js';
import { FernetDecryptError } from '../fernet.js';
import type { ImportContext, ImportStep, Prepared } from '../step.js';
import { num, ownerOrReject, textOrNull } from '../step.js';
import { rowsOf, upsertRows } from '../writer.js';

/**
 * users_userprofile → user_profiles (ids kept). The nine columns the original encrypted (Fernet) are
 * opened with its key; all sixteen fields are sealed as one record under the owner's data key; the blind
 * index of the ID number is computed under this service's key. A field that does not decrypt rejects
 * the profile (the person's health data is never carried half-way); so does an ID number already used
 * by another profile (this service keeps them unique).
 */
export const ENCRYPTED_PROFILE_COLUMNS = [
  'id_number',
  'emergency_contact',
  'emergency_phone',
  'diagnosis',
  'medications',
  'allergies',
  'medical_notes',
  'doctor_name',
  'doctor_phone',
] as const;

const COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'sealed', type: 'text' },
  ...PROFILE_FIELDS.map((f) => ({ name: f, type: 'text' })),
  { name: 'id_number_index', type: 'varchar' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

export function profilesStep(): ImportStep {
  const TABLE = 'users_userprofile';
  /** Blind index → source profile id, for ID numbers seen in this run. */
  const idNumbers = new Map<string, number>();

  function open(ctx: ImportContext, id: number, r: Record<string, unknown>): ProfilePlain | null {
    const plain = {} as Record<string, string | null>;
    for (const field of PROFILE_FIELDS) {
      const value = textOrNull(r[field]);
      if (!(ENCRYPTED_PROFILE_COLUMNS as readonly string[]).includes(field)) {
        plain[field] = value;
        continue;
      }
      try {
        plain[field] = ctx.fernet.open(value);
      } catch (err) {
        if (!(err instanceof FernetDecryptError)) throw err;
        ctx.report.reject(TABLE, id, `${field} does not decrypt with LEGACY_FIELD_ENCRYPTION_KEY`);
        return null;
      }
    }
    return plain as ProfilePlain;
  }

  return {
    table: TABLE,
    target: 'user_profiles',
    columns: ['id', 'user_id', 'created_at', 'updated_at', ...PROFILE_FIELDS],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      const opened: {
        id: number;
        userId: number;
        plain: ProfilePlain;
        index: string | null;
        r: (typeof rows)[0];
      }[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) continue;
        const plain = open(ctx, id, r);
        if (!plain) continue;
        const idNumber = plain.id_number;
        opened.push({ id, userId, plain, index: idNumber ? ctx.cipher.blindIndex(idNumber) : null, r });
      }
      // ID numbers held here by another user's profile (an earlier run, or a profile made here).
      const indexes = opened.flatMap((o) => (o.index ? [o.index] : []));
      const heldBy = new Map<string, number>();
      if (indexes.length > 0) {
        const found = rowsOf<{ user_id: string | number; id_number_index: string }>(
          await ctx.db.execute(
            sql`select user_id, id_number_index from user_profiles
                 where id_number_index in (select value from json_array_elements_text(${JSON.stringify(indexes)}::json))`,
          ),
        );
        for (const f of found) heldBy.set(f.id_number_index, Number(f.user_id));
      }
      const deks = await ctx.deks(opened.map((o) => o.userId));
      for (const o of opened) {
        if (o.index) {
          const holder = heldBy.get(o.index);
          const seen = idNumbers.get(o.index);
          if ((holder !== undefined && holder !== o.userId) || (seen !== undefined && seen !== o.id)) {
            ctx.report.reject(
              TABLE,
              o.id,
              "id_number is the same as another profile's (they are unique here)",
            );
            continue;
          }
          idNumbers.set(o.index, o.id);
        }
        const sealed = sealProfileColumns(ctx.cipher, deks(o.userId), o.userId, o.plain);
        out.push({
          sourceId: o.id,
          targetId: o.id,
          row: {
            id: o.id,
            user_id: o.userId,
            sealed: sealed.sealed,
            id_number_index: o.index,
            created_at: o.r.created_at,
            updated_at: o.r.updated_at,
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      // An empty profile made for a user whose original profile could not be carried earlier makes way.
      await tx.execute(
        sql`delete from user_profiles where sealed is null and id_number_index is null
              and user_id in (select value::bigint from json_array_elements_text(${JSON.stringify(rows.map((p) => p.row.user_id))}::json))
              and id not in (select value::bigint from json_array_elements_text(${JSON.stringify(rows.map((p) => p.targetId))}::json))`,
      );
      await upsertRows(
        tx,
        'user_profiles',
        COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

/** Every imported user has a profile here, as every user made here has (an empty one if the original had none). */
export async function ensureProfiles(ctx: ImportContext): Promise<number> {
  const result = await ctx.db.execute(
    sql`insert into user_profiles (user_id, created_at, updated_at)
        select u.id, u.date_joined, u.date_joined from users u
         where not exists (select 1 from user_profiles p where p.user_id = u.id)
           and exists (select 1 from django_import_rows r where r.source_table = 'users_user' and r.target_id = u.id)
        returning id`,
  );
  return rowsOf(result).length;
}
