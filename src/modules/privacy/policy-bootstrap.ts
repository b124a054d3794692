import type { Container } from '../../container.js';
import { utcToday } from '../../lib/time.js';
import { recordAudit } from '../audit/recorder.js';
import { createPolicyRepo, isUniqueViolationOf } from './policy-repo.js';
import { renderNoticeTemplate } from './policy-template.js';

export const TEMPLATE_VERSION = '1.0';
export const TEMPLATE_TITLE = 'Privacy Notice';

/**
 * First start: when no policy version exists, create and activate the template version
 * (privacy.md §1), so a fresh install can collect consent at once. Safe with several instances
 * starting together: one advisory lock, a recount under it, and the unique indexes as backstop.
 */
export async function ensurePrivacyPolicy(c: Container): Promise<'created' | 'exists'> {
  if ((await createPolicyRepo(c.db).count()) > 0) return 'exists';
  const at = c.now();
  const effectiveDate = utcToday(at);
  const content = await renderNoticeTemplate(c.config, effectiveDate);
  let outcome: 'created' | 'exists';
  try {
    outcome = await c.db.transaction(async (tx) => {
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
    if (isUniqueViolationOf(err)) return 'exists';
    throw err;
  }
  if (outcome === 'created') {
    c.logger.warn(
      {
        version: TEMPLATE_VERSION,
        information_officer_configured: Boolean(c.config.informationOfficerEmail.trim()),
      },
      'privacy policy 1.0 was created from the built-in POPIA template and activated: the operator must review it and publish a reviewed version (POST /api/popia/privacy-policy/versions/ or `npm run cli -- policy:create`)',
    );
  }
  return outcome;
}
