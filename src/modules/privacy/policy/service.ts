import type { Db, Tx } from '../../../db/client.js';
import { notFound, validationError } from '../../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../../lib/paging.js';
import { type AuditContext, diffPlain, recordAudit } from '../../audit/index.js';
import { isUniqueViolation } from '../../../db/errors.js';
import { createPolicyRepo, POLICY_VERSION_UNIQUE, type PolicyRow } from './repo.js';
import type { PolicyResponse, PolicyVersionInput } from './types.js';

const RESOURCE = 'privacy_policy_version';
const DUPLICATE_VERSION = () =>
  validationError({ version: ['Privacy Policy Version with this version already exists.'] });
/** Fields a create writes; all are plain (a policy is public), so their values may be audited. */
const AUDITED = ['version', 'title', 'effective_date', 'is_active'] as const;

export interface PolicyDeps {
  db: Db;
  fmt: (d: Date) => string;
  now: () => Date;
}

export function policyResponse(row: PolicyRow, fmt: (d: Date) => string): PolicyResponse {
  return {
    id: row.id,
    version: row.version,
    title: row.title,
    content: row.content,
    effective_date: row.effectiveDate,
    is_active: row.isActive,
    created_at: fmt(row.createdAt),
  };
}

const plainOf = (row: PolicyRow | null) => ({
  version: row?.version ?? null,
  title: row?.title ?? null,
  effective_date: row?.effectiveDate ?? null,
  is_active: row?.isActive ?? null,
});

/**
 * Privacy policy versions (docs/privacy.md#privacy-policy-versions): immutable once created; at
 * most one active, and activating one deactivates the others in the same transaction (serialised by
 * an advisory lock, backed by the partial unique index). Every change is audited.
 */
export function createPolicyService({ db, fmt, now }: PolicyDeps) {
  async function auditDeactivated(tx: Tx, ctx: AuditContext, rows: PolicyRow[]) {
    for (const row of rows) {
      await recordAudit(tx, ctx, {
        action: 'update',
        resourceType: RESOURCE,
        resourceId: row.id,
        fields: ['is_active'],
        changes: { is_active: [true, false] },
      });
    }
  }

  return {
    /** The active version (public). */
    async current(): Promise<PolicyResponse> {
      const row = await createPolicyRepo(db).active();
      if (!row) throw notFound('No active privacy policy found');
      return policyResponse(row, fmt);
    },

    async list(link: PageLink, query: unknown): Promise<Page<PolicyResponse>> {
      const repo = createPolicyRepo(db);
      return paginate(
        link,
        query,
        (limit, offset) => repo.page(limit, offset),
        () => repo.count(),
        (rows) => rows.map((r) => policyResponse(r, fmt)),
      );
    },

    /** Creates a version (activating it if asked). A duplicate version is a field error. */
    async create(ctx: AuditContext, input: PolicyVersionInput): Promise<PolicyResponse> {
      try {
        return await db.transaction(async (tx) => {
          const repo = createPolicyRepo(tx);
          const activate = input.is_active ?? false;
          if (activate) await repo.lockActivation();
          // The unique index is the backstop for two concurrent creates of one version.
          if (await repo.byVersion(input.version)) throw DUPLICATE_VERSION();
          const deactivated = activate ? await repo.deactivateOthers() : [];
          const row = await repo.insert({
            version: input.version,
            title: input.title,
            content: input.content,
            effectiveDate: input.effective_date,
            isActive: activate,
            createdAt: now(),
          });
          await auditDeactivated(tx, ctx, deactivated);
          await recordAudit(tx, ctx, {
            action: 'create',
            resourceType: RESOURCE,
            resourceId: row.id,
            fields: ['version', 'title', 'content', 'effective_date', 'is_active'],
            changes: diffPlain(plainOf(null), plainOf(row), AUDITED),
          });
          return policyResponse(row, fmt);
        });
      } catch (err) {
        if (isUniqueViolation(err, POLICY_VERSION_UNIQUE)) throw DUPLICATE_VERSION();
        throw err;
      }
    },

    /** Makes the version the active one; the others are deactivated. Already active: unchanged. */
    async activate(ctx: AuditContext, id: number): Promise<PolicyResponse> {
      return db.transaction(async (tx) => {
        const repo = createPolicyRepo(tx);
        await repo.lockActivation();
        const before = await repo.byId(id);
        if (!before) throw notFound();
        if (before.isActive) return policyResponse(before, fmt);
        const deactivated = await repo.deactivateOthers(id);
        const row = await repo.setActive(id);
        if (!row) throw notFound();
        await auditDeactivated(tx, ctx, deactivated);
        await recordAudit(tx, ctx, {
          action: 'update',
          resourceType: RESOURCE,
          resourceId: row.id,
          fields: ['is_active'],
          changes: { is_active: [false, true] },
        });
        return policyResponse(row, fmt);
      });
    },

    /** For the CLI: the version's id by its version string. */
    async idOf(version: string): Promise<number | undefined> {
      return (await createPolicyRepo(db).byVersion(version))?.id;
    },
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
