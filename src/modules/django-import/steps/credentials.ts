import type { ImportStep, Prepared } from '../step.js';
import { num, ownerOrReject, textOrNull } from '../step.js';
import { upsertRows, type Column } from '../writer.js';

/**
 * Credentials that are hashes already (ids kept): earlier passwords (the reuse check verifies Django's
 * pbkdf2 hashes), 2FA backup codes (SHA-256 of the code, which this service still accepts for codes of
 * the original's format until they are used or regenerated) and password-reset links (SHA-256 of the
 * token, as here: a link mailed by the original keeps working until it expires).
 */
const SHA256_HEX = /^[0-9a-f]{64}$/;

interface CredentialTable {
  table: string;
  target: string;
  columns: readonly Column[];
  /** Source column → target column where they differ. */
  rename?: Readonly<Record<string, string>>;
  /** Columns that must hold a SHA-256 hex digest. */
  digests?: readonly string[];
}

function credentialStep(spec: CredentialTable): ImportStep {
  const sourceName = (target: string) =>
    Object.entries(spec.rename ?? {}).find(([, t]) => t === target)?.[0] ?? target;
  return {
    table: spec.table,
    target: spec.target,
    columns: spec.columns.map((c) => sourceName(c.name)),
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, spec.table, id, r.user_id);
        if (userId === null) continue;
        const bad = (spec.digests ?? []).find((d) => !SHA256_HEX.test(String(r[sourceName(d)])));
        if (bad) {
          ctx.report.reject(spec.table, id, `${sourceName(bad)} is not a SHA-256 digest`);
          continue;
        }
        const row: Record<string, unknown> = {};
        for (const c of spec.columns) row[c.name] = r[sourceName(c.name)];
        row.id = id;
        row.user_id = userId;
        if ('ip_address' in row)
          row.ip_address = textOrNull(row.ip_address)?.replace(/\/(32|128)$/, '') ?? null;
        if (typeof row.user_agent === 'string') row.user_agent = row.user_agent.slice(0, 500);
        out.push({ sourceId: id, targetId: id, row });
      }
      return out;
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        spec.target,
        spec.columns,
        rows.map((p) => p.row),
      );
    },
  };
}

export const passwordHistoryStep = () =>
  credentialStep({
    table: 'users_passwordhistory',
    target: 'password_history',
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'user_id', type: 'bigint' },
      { name: 'password_hash', type: 'text' },
      { name: 'created_at', type: 'timestamptz' },
    ],
  });

export const backupCodesStep = () =>
  credentialStep({
    table: 'authentication_twofactorbackupcode',
    target: 'two_factor_backup_codes',
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'user_id', type: 'bigint' },
      { name: 'code_hash', type: 'varchar' },
      { name: 'created_at', type: 'timestamptz' },
      { name: 'used', type: 'boolean' },
      { name: 'used_at', type: 'timestamptz' },
    ],
    digests: ['code_hash'],
  });

export const resetTokensStep = () =>
  credentialStep({
    table: 'authentication_passwordresettoken',
    target: 'password_reset_tokens',
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'user_id', type: 'bigint' },
      { name: 'token_hash', type: 'varchar' },
      { name: 'created_at', type: 'timestamptz' },
      { name: 'expires_at', type: 'timestamptz' },
      { name: 'used', type: 'boolean' },
      { name: 'used_at', type: 'timestamptz' },
      { name: 'ip_address', type: 'varchar' },
      { name: 'user_agent', type: 'varchar' },
    ],
    digests: ['token_hash'],
  });
