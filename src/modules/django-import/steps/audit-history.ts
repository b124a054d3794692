import { sql } from 'drizzle-orm';
import type { ImportStep, Prepared } from '../step.js';
import { asText, num } from '../step.js';
import { quote } from '../source.js';
import { rowsOf } from '../writer.js';

/**
 * auditlog_logentry → audit_log, as history (new ids: this service's own entries hold the low ones).
 * An entry is marked imported (`resource_type` `legacy.<app>.<model>`, `metadata.imported_from`), keeps
 * its time, actor, address, request id, action, object and the NAMES of the fields it changed, and
 * goes into the tamper-evident chain like any entry (the sealer chains it after the import commits).
 * PRIVACY: never the values: the original's `changes` holds decrypted health data and TOTP secrets,
 * and `object_repr` e-mail addresses; neither is read.
 */
const ACTIONS: Record<number, string> = { 0: 'create', 1: 'update', 2: 'delete', 3: 'read' };

export function auditHistoryStep(): ImportStep {
  const TABLE = 'auditlog_logentry';
  /** content_type_id → `app.model`, and the SQL that finds the person an entry is about. */
  let models = new Map<number, string>();
  let subjectCase = 'null::bigint';
  return {
    table: TABLE,
    columns: [
      'id',
      'object_pk',
      'object_id',
      'action',
      'timestamp',
      'actor_id',
      'content_type_id',
      'remote_addr',
      'cid',
    ],
    ignored: {
      changes:
        'holds decrypted values (health data, 2FA secrets): only the names of the changed fields are kept',
      changes_text: 'holds values: only the names of the changed fields are kept',
      object_repr: 'may name the person (an e-mail address)',
      additional_data: 'holds values',
      serialized_data: 'holds values',
    },
    batchSize: 5000,
    async init(ctx, tables) {
      if (!tables.has('django_content_type')) return;
      const types = await ctx.source.query<{ id: string | number; app_label: string; model: string }>(
        'select id, app_label, model from django_content_type',
      );
      models = new Map(types.map((t) => [Number(t.id), `${t.app_label}.${t.model}`]));
      // The person an entry is about: the user itself, or the user_id / candidate_id of the object.
      const cases: string[] = [];
      for (const t of types) {
        const table = `${t.app_label}_${t.model}`;
        const cols = tables.get(table);
        const id = String(Number(t.id));
        if (table === 'users_user') cases.push(`when ${id} then t.object_id`);
        else if (cols?.has('candidate_id'))
          cases.push(
            `when ${id} then (select s.candidate_id from ${quote(table)} s where s.id = t.object_id)`,
          );
        else if (cols?.has('user_id'))
          cases.push(`when ${id} then (select s.user_id from ${quote(table)} s where s.id = t.object_id)`);
      }
      if (cases.length > 0) subjectCase = `case t.content_type_id ${cases.join(' ')} end`;
    },
    expressions: () => [
      `(case when jsonb_typeof(t.changes) = 'object' then (select json_agg(k order by k) from jsonb_object_keys(t.changes) k) end) as field_names`,
      `${subjectCase} as subject_id`,
    ],
    async prepare(rows, ctx) {
      const out: Prepared[] = [];
      for (const r of rows) {
        const id = num(r.id);
        const actor = r.actor_id === null ? null : num(r.actor_id);
        const subject = r.subject_id === null || r.subject_id === undefined ? null : num(r.subject_id);
        const model = models.get(num(r.content_type_id)) ?? `content_type_${String(r.content_type_id)}`;
        out.push({
          sourceId: id,
          targetId: 0,
          row: {
            at: r.timestamp,
            actor_id: actor !== null && ctx.users.has(actor) ? actor : null,
            actor_role: actor !== null ? (ctx.users.get(actor)?.role ?? 'unknown') : 'unknown',
            ip: r.remote_addr === null ? null : asText(r.remote_addr).replace(/\/(32|128)$/, ''),
            request_id: r.cid === null ? null : asText(r.cid).slice(0, 128),
            action: ACTIONS[num(r.action)] ?? `action_${String(r.action)}`,
            resource_type: `legacy.${model}`.slice(0, 64),
            resource_id: String(r.object_pk).slice(0, 64),
            subject_user_id:
              subject !== null && (ctx.users.has(subject) || ctx.erased.has(subject)) ? subject : null,
            fields: r.field_names ?? null,
            metadata: { imported_from: 'django', source_table: TABLE, source_id: id },
          },
        });
      }
      return out;
    },
    /** Append-only: a new entry each; an entry that changed in the source since is not written again. */
    async write(tx, rows) {
      if (rows.length === 0) return new Map();
      const result = await tx.execute(sql`
        insert into audit_log (at, actor_id, actor_role, ip, request_id, action, resource_type, resource_id,
                               subject_user_id, fields, metadata)
        select x.at, x.actor_id, x.actor_role, x.ip, x.request_id, x.action, x.resource_type, x.resource_id,
               x.subject_user_id, x.fields, x.metadata
          from json_to_recordset(${JSON.stringify(rows.map((p) => p.row))}::json) as x(at timestamptz, actor_id bigint,
               actor_role varchar, ip varchar, request_id varchar, action varchar, resource_type varchar,
               resource_id varchar, subject_user_id bigint, fields jsonb, metadata jsonb)
        returning id, (metadata->>'source_id')::bigint as source_id`);
      return new Map(
        rowsOf<{ id: string | number; source_id: string | number }>(result).map((r) => [
          Number(r.source_id),
          Number(r.id),
        ]),
      );
    },
    appendOnly: true,
  };
}
