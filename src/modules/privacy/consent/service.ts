import type { Db, DbOrTx } from '../../../db/client.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { badRequest, notFound } from '../../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../../lib/paging.js';
import { diffPlain, recordAudit } from '../../audit/index.js';
import { type ConsentRow, type ConsentWithVersion, createConsentRepo } from './repo.js';
import {
  CONSENT_TYPE_DISPLAY,
  CONSENT_TYPES,
  type ConsentAction,
  type ConsentEventResponse,
  type ConsentResponse,
  type ConsentStatusResponse,
  type GrantInput,
} from './types.js';
import { createPolicyRepo, type PolicyRow } from '../policy/repo.js';

const RESOURCE = 'consent';
const PLAIN = ['consent_type', 'granted', 'privacy_policy_version'] as const;

export interface ConsentDeps {
  db: Db;
  fmt: (d: Date) => string;
  now: () => Date;
}

/**
 * Whether the user currently grants the `medical_data` consent, for any policy version
 * (INTAKE_REQUIRE_MEDICAL_CONSENT, docs/contract.md#intake).
 */
export function hasMedicalDataConsent(db: DbOrTx, userId: number): Promise<boolean> {
  return createConsentRepo(db).isGranted(userId, 'medical_data');
}

const plainOf = (row: Pick<ConsentRow, 'consentType' | 'granted' | 'policyVersionId'> | undefined) => ({
  consent_type: row?.consentType ?? null,
  granted: row?.granted ?? null,
  privacy_policy_version: row?.policyVersionId ?? null,
});

/** Whether version `a` came before version `b` (effective date, then creation order). */
const olderThan = (a: { effectiveDate: string; id: number }, b: { effectiveDate: string; id: number }) =>
  a.effectiveDate < b.effectiveDate || (a.effectiveDate === b.effectiveDate && a.id < b.id);

/**
 * Consents (docs/privacy.md#consents): own only, one row per (user, type) upserted on grant, and an
 * append-only event per decision. PRIVACY: withdrawal deletes no data; the stored IP and
 * User-Agent are the request's, never the body's.
 */
export function createConsentService({ db, fmt, now }: ConsentDeps) {
  const present = (row: ConsentRow, versionNumber: string): ConsentResponse => ({
    id: row.id,
    consent_type: row.consentType,
    consent_type_display: CONSENT_TYPE_DISPLAY[row.consentType],
    privacy_policy_version: row.policyVersionId,
    privacy_policy_version_number: versionNumber,
    granted: row.granted,
    granted_at: fmt(row.grantedAt),
    withdrawn_at: row.withdrawnAt ? fmt(row.withdrawnAt) : null,
  });
  const presentJoined = (row: ConsentWithVersion) => present(row, row.versionNumber);

  return {
    async list(link: PageLink, actor: Actor, query: unknown): Promise<Page<ConsentResponse>> {
      const repo = createConsentRepo(db);
      return paginate(
        link,
        query,
        (limit, offset) => repo.page(actor.userId, limit, offset),
        () => repo.count(actor.userId),
        (rows) => rows.map(presentJoined),
      );
    },

    async history(link: PageLink, actor: Actor, query: unknown): Promise<Page<ConsentEventResponse>> {
      const repo = createConsentRepo(db);
      return paginate(
        link,
        query,
        (limit, offset) => repo.eventPage(actor.userId, limit, offset),
        () => repo.countEvents(actor.userId),
        (rows) =>
          rows.map((e) => ({
            id: e.id,
            consent_type: e.consentType,
            action: e.action as ConsentAction,
            privacy_policy_version: e.policyVersionId,
            privacy_policy_version_number: e.versionNumber,
            at: fmt(e.at),
          })),
      );
    },

    /** Types to ask for again: no consent, withdrawn, or granted for a version older than the active. */
    async status(actor: Actor): Promise<ConsentStatusResponse> {
      const active: PolicyRow | undefined = await createPolicyRepo(db).active();
      const current = new Map((await createConsentRepo(db).all(actor.userId)).map((r) => [r.consentType, r]));
      const required = CONSENT_TYPES.filter((type) => {
        const row = current.get(type);
        if (!row?.granted) return true;
        if (!active || row.policyVersionId === active.id) return false;
        return olderThan({ effectiveDate: row.versionEffectiveDate, id: row.policyVersionId }, active);
      });
      return { policy_version: active?.version ?? null, consent_required: required };
    },

    /** Upsert on (user, type): `created` true → 201, false (re-grant) → 200. */
    async grant(
      actor: Actor,
      meta: RequestMeta,
      input: GrantInput,
    ): Promise<{ consent: ConsentResponse; created: boolean }> {
      return db.transaction(async (tx) => {
        const version = await createPolicyRepo(tx).byId(input.privacy_policy_version_id);
        if (!version) throw badRequest('Invalid privacy policy version');
        const repo = createConsentRepo(tx);
        const before = await repo.findByType(actor.userId, input.consent_type);
        const at = now();
        // PRIVACY/SECURITY: the request's own address and User-Agent, never the client's claim.
        const ipAddress = meta.ip;
        const userAgent = meta.userAgent.slice(0, 500);
        const { row, created } = await repo.grant({
          userId: actor.userId,
          consentType: input.consent_type,
          policyVersionId: version.id,
          at,
          ipAddress,
          userAgent,
        });
        await repo.appendEvent({
          userId: actor.userId,
          consentType: row.consentType,
          policyVersionId: version.id,
          action: 'grant',
          at,
          ipAddress,
          userAgent,
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'consent_granted',
            resourceType: RESOURCE,
            resourceId: row.id,
            subjectUserId: actor.userId,
            fields: ['granted', 'granted_at', 'withdrawn_at', 'privacy_policy_version'],
            changes: diffPlain(plainOf(created ? undefined : before), plainOf(row), PLAIN),
            metadata: { consent_type: row.consentType, privacy_policy_version_number: version.version },
          },
        );
        return { consent: present(row, version.version), created };
      });
    },

    /** Withdraws an own, granted consent. PRIVACY: no data is deleted. */
    async withdraw(actor: Actor, meta: RequestMeta, id: number): Promise<ConsentResponse> {
      return db.transaction(async (tx) => {
        const repo = createConsentRepo(tx);
        const before = await repo.findOwn(id, actor.userId);
        if (!before) throw notFound('Consent record not found');
        if (!before.granted) throw badRequest('Consent already withdrawn');
        const at = now();
        const row = await repo.withdraw(id, at);
        await repo.appendEvent({
          userId: actor.userId,
          consentType: row.consentType,
          policyVersionId: row.policyVersionId,
          action: 'withdraw',
          at,
          ipAddress: meta.ip,
          userAgent: meta.userAgent.slice(0, 500),
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'consent_withdrawn',
            resourceType: RESOURCE,
            resourceId: row.id,
            subjectUserId: actor.userId,
            fields: ['granted', 'withdrawn_at'],
            changes: diffPlain(plainOf(before), plainOf(row), PLAIN),
            metadata: { consent_type: row.consentType, privacy_policy_version_number: before.versionNumber },
          },
        );
        return present(row, before.versionNumber);
      });
    },
  };
}
export type ConsentService = ReturnType<typeof createConsentService>;
