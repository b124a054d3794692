import { sql } from 'drizzle-orm';
import type { ImportContext, ImportStep, Prepared } from '../step.js';
import { asText, num, ownerOrReject, textOrNull } from '../step.js';
import { upsertRows } from '../writer.js';

/**
 * Privacy records (ids kept): policy versions, consents (with a history rebuilt from each row: the
 * original kept only the last decision), deletion and export requests with their state, and inactivity
 * deletion schedules.
 */
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

const POLICY_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'version', type: 'varchar' },
  { name: 'title', type: 'varchar' },
  { name: 'content', type: 'text' },
  { name: 'effective_date', type: 'date' },
  { name: 'is_active', type: 'boolean' },
  { name: 'created_at', type: 'timestamptz' },
] as const;

export function policyVersionsStep(): ImportStep {
  const TABLE = 'users_privacypolicyversion';
  let activeSeen: number | null = null;
  return {
    table: TABLE,
    target: 'privacy_policy_versions',
    columns: ['id', 'version', 'title', 'content', 'effective_date', 'created_at', 'is_active'],
    // The original stores the effective moment; here it is the calendar date where the programme is.
    expressions: (ctx) => [
      `(t.effective_date at time zone ${quoteLiteral(ctx.timeZone)})::date::text as effective_local`,
    ],
    present(rows, ctx) {
      for (const r of rows) {
        ctx.policies.add(num(r.id));
        if (r.is_active === true) activeSeen = num(r.id);
      }
    },
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        let active = r.is_active === true;
        if (active && activeSeen !== null && activeSeen !== id) {
          ctx.report.alter(
            TABLE,
            id,
            `a second active version (users_privacypolicyversion ${String(activeSeen)} is active): imported as inactive`,
          );
          active = false;
        }
        if (active) activeSeen = id;
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            id,
            version: r.version,
            title: r.title,
            content: r.content,
            effective_date: r.effective_local,
            is_active: active,
            created_at: r.created_at,
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'privacy_policy_versions',
        POLICY_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

const CONSENT_TYPES = new Set(['data_processing', 'medical_data', 'communications', 'data_sharing']);
const CONSENT_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'consent_type', type: 'consent_type' },
  { name: 'privacy_policy_version_id', type: 'bigint' },
  { name: 'granted', type: 'boolean' },
  { name: 'granted_at', type: 'timestamptz' },
  { name: 'withdrawn_at', type: 'timestamptz' },
  { name: 'ip_address', type: 'varchar' },
  { name: 'user_agent', type: 'varchar' },
] as const;

function userAgent(ctx: ImportContext, table: string, id: number, value: unknown): string {
  const ua = value === null || value === undefined ? '' : asText(value);
  if (ua.length <= 500) return ua;
  ctx.report.alter(table, id, 'user_agent longer than 500 characters: cut to 500');
  return ua.slice(0, 500);
}

export function consentsStep(): ImportStep {
  const TABLE = 'users_userconsent';
  return {
    table: TABLE,
    target: 'user_consents',
    columns: [
      'id',
      'consent_type',
      'granted',
      'granted_at',
      'withdrawn_at',
      'ip_address',
      'user_agent',
      'privacy_policy_version_id',
      'user_id',
    ],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) continue;
        if (!CONSENT_TYPES.has(String(r.consent_type))) {
          ctx.report.reject(
            TABLE,
            id,
            `consent_type "${String(r.consent_type).slice(0, 30)}" is not known here`,
          );
          continue;
        }
        const policyId = num(r.privacy_policy_version_id);
        if (!ctx.policies.has(policyId)) {
          ctx.report.reject(
            TABLE,
            id,
            `its policy version (users_privacypolicyversion ${String(policyId)}) was not imported`,
          );
          continue;
        }
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            id,
            user_id: userId,
            consent_type: r.consent_type,
            privacy_policy_version_id: policyId,
            granted: r.granted === true,
            granted_at: r.granted_at,
            withdrawn_at: r.withdrawn_at,
            ip_address: textOrNull(r.ip_address)?.replace(/\/(32|128)$/, '') ?? null,
            user_agent: userAgent(ctx, TABLE, id, r.user_agent),
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      const consents = rows.map((p) => p.row);
      await upsertRows(tx, 'user_consents', CONSENT_COLUMNS, consents);
      // The history here is one event per decision: the grant, and the withdrawal when there is one.
      // An event already here (an earlier run) is not added twice.
      const events = consents.flatMap((c) => [
        { ...c, action: 'grant', at: c.granted_at },
        ...(c.withdrawn_at ? [{ ...c, action: 'withdraw', at: c.withdrawn_at }] : []),
      ]);
      await tx.execute(sql`
        insert into consent_events (user_id, consent_type, privacy_policy_version_id, action, at, ip_address, user_agent)
        select x.user_id, x.consent_type, x.privacy_policy_version_id, x.action, x.at, x.ip_address, x.user_agent
          from json_to_recordset(${JSON.stringify(events)}::json) as x(user_id bigint, consent_type consent_type,
               privacy_policy_version_id bigint, action varchar, at timestamptz, ip_address varchar, user_agent varchar)
         where not exists (select 1 from consent_events e where e.user_id = x.user_id and e.consent_type = x.consent_type
                             and e.action = x.action and e.at = x.at)`);
    },
  };
}

const DELETION_STATUSES = new Set(['pending', 'approved', 'rejected', 'completed', 'cancelled']);
const DELETION_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'requested_at', type: 'timestamptz' },
  { name: 'status', type: 'deletion_status' },
  { name: 'reason', type: 'text' },
  { name: 'reviewed_by', type: 'bigint' },
  { name: 'reviewed_at', type: 'timestamptz' },
  { name: 'admin_notes', type: 'text' },
  { name: 'completed_at', type: 'timestamptz' },
  { name: 'scheduled_for', type: 'timestamptz' },
  { name: 'deletion_proof', type: 'jsonb' },
  { name: 'retention_until', type: 'timestamptz' },
] as const;

function proofOf(value: unknown): Record<string, unknown> | null {
  if (value === null || value === undefined || asText(value).trim() === '') return null;
  if (typeof value === 'object') return value as Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(asText(value));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { original: parsed };
  } catch {
    return { original: asText(value) };
  }
}

export function deletionRequestsStep(): ImportStep {
  const TABLE = 'users_datadeletionrequest';
  return {
    table: TABLE,
    target: 'data_deletion_requests',
    columns: [
      'id',
      'requested_at',
      'status',
      'reason',
      'reviewed_at',
      'admin_notes',
      'completed_at',
      'deletion_proof',
      'retention_until',
      'reviewed_by_id',
      'user_id',
    ],
    // An approved request is erased once its grace period (from approval) has passed, as here.
    expressions: (ctx) => [
      `(t.reviewed_at + make_interval(days => ${String(ctx.deletionGraceDays)}))::text as grace_ends`,
      `(t.reviewed_at + make_interval(days => ${String(ctx.deletionGraceDays)}) <= now()) as grace_over`,
    ],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) continue;
        const status = String(r.status);
        if (!DELETION_STATUSES.has(status)) {
          ctx.report.reject(TABLE, id, `status "${status.slice(0, 20)}" is not known here`);
          continue;
        }
        let reviewer = r.reviewed_by_id === null ? null : num(r.reviewed_by_id);
        if (reviewer !== null && !ctx.users.has(reviewer)) {
          ctx.report.alter(
            TABLE,
            id,
            `its reviewer (users_user ${String(reviewer)}) is not here: kept without a reviewer`,
          );
          reviewer = null;
        }
        const approved = status === 'approved' && r.reviewed_at !== null;
        if (approved && r.grace_over === true) {
          ctx.report.note(
            `${TABLE} ${String(id)}: approved and past its grace period: the person is erased at the next hourly deletion run`,
          );
        }
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            id,
            user_id: userId,
            requested_at: r.requested_at,
            status,
            reason: r.reason ?? '',
            reviewed_by: reviewer,
            reviewed_at: r.reviewed_at,
            admin_notes: r.admin_notes ?? '',
            completed_at: r.completed_at,
            scheduled_for: approved ? r.grace_ends : null,
            deletion_proof: proofOf(r.deletion_proof),
            retention_until: r.retention_until,
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'data_deletion_requests',
        DELETION_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

const EXPORT_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'requested_at', type: 'timestamptz' },
  { name: 'status', type: 'export_status' },
  { name: 'completed_at', type: 'timestamptz' },
  { name: 'file_path', type: 'text' },
  { name: 'download_count', type: 'integer' },
  { name: 'expires_at', type: 'timestamptz' },
  { name: 'error_message', type: 'varchar' },
] as const;
const NOT_BUILT = 'not built by the original before the move: request a new export';

export function exportRequestsStep(): ImportStep {
  const TABLE = 'users_dataexportrequest';
  return {
    table: TABLE,
    target: 'data_export_requests',
    columns: [
      'id',
      'requested_at',
      'status',
      'completed_at',
      'file_path',
      'download_count',
      'expires_at',
      'error_message',
      'user_id',
    ],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) continue;
        let status = String(r.status);
        let error = r.error_message === null ? null : asText(r.error_message);
        if (status === 'pending' || status === 'processing') {
          // Its file would be built by the original's process, which stops at the move.
          ctx.report.alter(TABLE, id, `was ${status}: marked failed (${NOT_BUILT})`);
          status = 'failed';
          error = NOT_BUILT;
        } else if (status !== 'completed' && status !== 'failed') {
          ctx.report.reject(TABLE, id, `status "${status.slice(0, 20)}" is not known here`);
          continue;
        }
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            id,
            user_id: userId,
            requested_at: r.requested_at,
            status,
            completed_at: r.completed_at,
            file_path: r.file_path === '' ? null : r.file_path,
            download_count: Number(r.download_count ?? 0),
            // A finished export's file stays with the original: it cannot be downloaded here.
            expires_at: status === 'completed' ? (r.expires_at ?? r.completed_at) : r.expires_at,
            error_message: error === null || error === '' ? null : error.slice(0, 500),
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'data_export_requests',
        EXPORT_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}

const SCHEDULE_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'user_id', type: 'bigint' },
  { name: 'scheduled_deletion_date', type: 'timestamptz' },
  { name: 'first_warning_sent', type: 'timestamptz' },
  { name: 'second_warning_sent', type: 'timestamptz' },
  { name: 'exempted', type: 'boolean' },
  { name: 'exemption_reason', type: 'text' },
  { name: 'created_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
] as const;

export function deletionSchedulesStep(): ImportStep {
  const TABLE = 'users_accountdeletionschedule';
  return {
    table: TABLE,
    target: 'account_deletion_schedules',
    columns: [...SCHEDULE_COLUMNS.map((c) => c.name)],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const userId = ownerOrReject(ctx, TABLE, id, r.user_id);
        if (userId === null) continue;
        out.push({
          sourceId: id,
          targetId: id,
          row: {
            ...r,
            id,
            user_id: userId,
            exempted: r.exempted === true,
            exemption_reason: r.exemption_reason ?? '',
          },
        });
      }
      return out;
    },
    async write(tx, rows) {
      await upsertRows(
        tx,
        'account_deletion_schedules',
        SCHEDULE_COLUMNS,
        rows.map((p) => p.row),
      );
    },
  };
}
