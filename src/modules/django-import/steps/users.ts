import { sql } from 'drizzle-orm';
import { fieldAad } from '../../../lib/crypto/field-cipher.js';
import { FernetDecryptError } from '../fernet.js';
import type { ImportContext, ImportStep, Prepared } from '../step.js';
import { num, textOrNull } from '../step.js';
import { rowsOf, upsertRows } from '../writer.js';

/**
 * users_user → users (ids kept) and a data key each. E-mails are stored lower-cased here (sign-in
 * lower-cases), so a mixed-case address the original stored, whose owner could not sign in there,
 * signs in here; two addresses equal once lower-cased cannot both be carried: the later id is rejected.
 * Password hashes are kept (pbkdf2_sha256 verifies here and becomes argon2id at the next sign-in). The
 * TOTP secret is opened with the original's key and sealed under the user's data key.
 */
const ROLES = new Set(['candidate', 'admin', 'superuser']);
const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** Hash schemes this service verifies: Django's PBKDF2-SHA256, argon2id (PHC) and unusable passwords. */
const VERIFIABLE = /^(pbkdf2_sha256\$|\$argon2id\$|!)/;

const USER_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'email', type: 'varchar' },
  { name: 'password', type: 'text' },
  { name: 'first_name', type: 'varchar' },
  { name: 'last_name', type: 'varchar' },
  { name: 'role', type: 'user_role' },
  { name: 'has_completed_intake', type: 'boolean' },
  { name: 'is_active', type: 'boolean' },
  { name: 'date_joined', type: 'timestamptz' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
  { name: 'last_login', type: 'timestamptz' },
  { name: 'password_last_changed', type: 'timestamptz' },
  { name: 'totp_secret', type: 'text' },
  { name: 'totp_enabled', type: 'boolean' },
  { name: 'totp_enabled_at', type: 'timestamptz' },
  { name: 'totp_last_used', type: 'timestamptz' },
] as const;

const KEY_COLUMNS = [
  { name: 'user_id', type: 'bigint' },
  { name: 'master_key_id', type: 'varchar' },
  { name: 'wrapped_key', type: 'text' },
] as const;

export function usersStep(): ImportStep {
  const TABLE = 'users_user';
  /** Lower-cased e-mail → the source user holding it in this run. */
  const emails = new Map<string, number>();
  const claim = (email: string, id: number): number | null => {
    const holder = emails.get(email);
    if (holder !== undefined && holder !== id) return holder;
    emails.set(email, id);
    return null;
  };

  /** Addresses already used here by users with another id (an earlier run's rows). */
  async function takenHere(ctx: ImportContext, lowered: string[]): Promise<Map<string, number>> {
    const taken = new Map<string, number>();
    if (lowered.length === 0) return taken;
    const found = rowsOf<{ id: string | number; email: string }>(
      await ctx.db.execute(
        sql`select id, lower(email) as email from users
             where lower(email) in (select value from json_array_elements_text(${JSON.stringify(lowered)}::json))`,
      ),
    );
    for (const f of found) taken.set(f.email, Number(f.id));
    return taken;
  }

  /** The TOTP secret in plaintext (memory only), or null when there is none or it cannot be opened. */
  function openSecret(ctx: ImportContext, id: number, value: unknown): string | null {
    try {
      return ctx.fernet.open(textOrNull(value));
    } catch (err) {
      if (!(err instanceof FernetDecryptError)) throw err;
      ctx.report.alter(
        TABLE,
        id,
        'totp_secret does not decrypt with LEGACY_FIELD_ENCRYPTION_KEY: 2FA is reset, the person enrols again',
      );
      return null;
    }
  }

  return {
    table: TABLE,
    target: 'users',
    columns: [
      'id',
      'password',
      'last_login',
      'email',
      'first_name',
      'last_name',
      'role',
      'has_completed_intake',
      'is_active',
      'date_joined',
      'created_at',
      'updated_at',
      'password_last_changed',
      'totp_enabled',
      'totp_enabled_at',
      'totp_last_used',
      'totp_secret',
    ],
    ignored: {
      is_superuser: 'the role decides what a person may do here (as in the original API)',
      is_staff: 'the role decides what a person may do here (as in the original API)',
    },
    present(rows, ctx) {
      for (const r of rows) {
        const id = num(r.id);
        if (ctx.erased.has(id)) continue;
        claim(String(r.email).trim().toLowerCase(), id);
        ctx.users.set(id, { role: String(r.role) });
      }
    },
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      const live = rows.filter((r) => {
        if (!ctx.erased.has(num(r.id))) return true;
        ctx.report.reject(TABLE, num(r.id), 'erased in this service since it was imported: not brought back');
        return false;
      });
      const taken = await takenHere(
        ctx,
        live.map((r) => String(r.email).trim().toLowerCase()),
      );
      const deks = await ctx.deks(live.map((r) => num(r.id)));
      for (const r of live) {
        const id = num(r.id);
        const email = String(r.email).trim().toLowerCase();
        const role = String(r.role);
        if (!EMAIL.test(email) || email.length > 254) {
          ctx.report.reject(TABLE, id, 'e-mail is not an address');
          continue;
        }
        if (!ROLES.has(role)) {
          ctx.report.reject(
            TABLE,
            id,
            `role "${role.slice(0, 20)}" is not one of candidate, admin, superuser`,
          );
          continue;
        }
        const holder = taken.get(email);
        const clash = holder !== undefined && holder !== id ? holder : claim(email, id);
        if (clash !== null) {
          ctx.report.reject(
            TABLE,
            id,
            `e-mail is the same as users_user ${String(clash)}'s once lower-cased`,
          );
          continue;
        }
        const password = String(r.password);
        if (!VERIFIABLE.test(password)) {
          ctx.report.alter(
            TABLE,
            id,
            `password hash of scheme "${(password.split('$')[0] ?? '').slice(0, 30)}" is not verified here: the person sets a new password through a reset`,
          );
        }
        const secret = openSecret(ctx, id, r.totp_secret);
        const totpEnabled = r.totp_enabled === true && secret !== null && secret !== '';
        if (r.totp_enabled === true && !totpEnabled && r.totp_secret === null) {
          ctx.report.alter(TABLE, id, '2FA was on without a secret: 2FA is reset, the person enrols again');
        }
        const dek = deks(id);
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            id,
            email,
            password,
            first_name: r.first_name,
            last_name: r.last_name,
            role,
            has_completed_intake: r.has_completed_intake,
            is_active: r.is_active,
            date_joined: r.date_joined,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login: r.last_login,
            password_last_changed: r.password_last_changed,
            totp_secret:
              totpEnabled && secret
                ? ctx.cipher.encrypt(dek, secret, fieldAad('users', 'totp_secret', id))
                : null,
            totp_enabled: totpEnabled,
            totp_enabled_at: totpEnabled ? r.totp_enabled_at : null,
            totp_last_used: totpEnabled ? r.totp_last_used : null,
          },
        });
      }
      return out;
    },
    async write(tx, rows, ctx) {
      await upsertRows(
        tx,
        'users',
        USER_COLUMNS,
        rows.map((p) => p.row),
      );
      const deks = await ctx.deks(rows.map((p) => p.targetId));
      await upsertRows(
        tx,
        'data_keys',
        KEY_COLUMNS,
        rows.map((p) => {
          const wrapped = ctx.cipher.wrap(p.targetId, deks(p.targetId));
          return { user_id: p.targetId, master_key_id: wrapped.masterKeyId, wrapped_key: wrapped.wrappedKey };
        }),
        { key: ['user_id'], update: false },
      );
    },
  };
}
