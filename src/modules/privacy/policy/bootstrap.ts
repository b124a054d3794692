import type { Db } from '../../../db/client.js';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Log } from '../../../lib/log.js';
import { utcToday } from '../../../lib/time.js';
import { recordAudit } from '../../audit/index.js';
import { createPolicyRepo } from './repo.js';
import { type NoticeConfig, renderNoticeTemplate } from './template.js';

export const TEMPLATE_VERSION = '1.0';
export const TEMPLATE_TITLE = 'Privacy Notice';

export interface PolicyBootstrapDeps {
  db: Db;
  now: () => Date;
  /** The retention periods and the information officer the notice names. */
  config: NoticeConfig;
  logger: Log;
}

/**
 * First start: when no policy version exists, create and activate the template version
 * (docs/privacy.md#privacy-policy-versions), so a fresh install can collect consent at once. Safe
 * with several instances starting together: one advisory lock, a recount under it, and the unique
 * indexes as backstop.
 */
export async function ensurePrivacyPolicy({
  db,
  now,
  config,
  logger,
}: PolicyBootstrapDeps): Promise<'created' | 'exists'> {
  if ((await createPolicyRepo(db).count()) > 0) return 'exists';
  const at = now();
  const effectiveDate = utcToday(at);
  const content = await renderNoticeTemplate(config, effectiveDate);
  let outcome: 'created' | 'exists';
  try {
    outcome = await db.transaction(async (tx) => {
      const repo = createPolicyRepo(tx);
      await repo.lockActivation();
      if ((await repo.count()) > 0) return 'exists' as const;
      const row = await repo.insert({
        version: TEMPLATE_VERSION,
        title: TEMPLATE_TITLE,
        content,
        effectiveDate,
        isActive: true,
        createdAt: at,
      });
      await recordAudit(
        tx,
        { actor: null, meta: null },
        {
          action: 'create',
          resourceType: 'privacy_policy_version',
          resourceId: row.id,
          fields: ['version', 'title', 'content', 'effective_date', 'is_active'],
          changes: {
            version: [null, row.version],
            title: [null, row.title],
            effective_date: [null, row.effectiveDate],
            is_active: [null, true],
          },
          metadata: { source: 'template' },
        },
      );
      return 'created' as const;
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'exists';
    throw err;
  }
  if (outcome === 'created') {
    logger.warn(
      {
        version: TEMPLATE_VERSION,
        information_officer_configured: Boolean(config.informationOfficerEmail.trim()),
      },
      'privacy policy 1.0 was created from the built-in POPIA template and activated: the operator must review it and publish a reviewed version (POST /api/popia/privacy-policy/versions/ or `npm run cli -- policy:create`)',
    );
  }
  return outcome;
}
