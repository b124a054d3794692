import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../config.js';

/**
 * The POPIA notice template (docs/privacy.md#privacy-policy-versions, first start): Markdown kept in
 * the repository, filled with the configured retention periods and the information officer's
 * contact.
 */
export const NOTICE_TEMPLATE = 'privacy-notice-v1.md';
/** Completed deletion requests are kept this long (docs/privacy.md#retention: `retention_until`). */
export const DELETION_RECORD_RETENTION_DAYS = 730;

/**
 * The template's path: the module's `templates/` folder beside this file's folder. From the build
 * (dist/src/modules/privacy/policy) that is the copy `npm run build` puts there
 * (scripts/copy-run-time-files.mjs), so the build runs without the repository.
 */
export function noticeTemplatePath(policyDir = path.dirname(fileURLToPath(import.meta.url))): string {
  return path.join(policyDir, '..', 'templates', NOTICE_TEMPLATE);
}

export type NoticeConfig = Pick<Config, 'retention' | 'informationOfficerEmail'>;

/** The values the template's `{{name}}` placeholders take. */
export function noticeValues(config: NoticeConfig, effectiveDate: string): Record<string, string> {
  const r = config.retention;
  const officer = config.informationOfficerEmail.trim();
  return {
    effective_date: effectiveDate,
    information_officer_contact: officer
      ? `the Information Officer, ${officer}`
      : 'the Information Officer (contact details to be published by the operator)',
    inactive_years: String(r.inactiveYears),
    inactive_days: String(r.inactiveYears * 365),
    inactive_grace_days: String(r.inactiveGraceDays),
    deletion_grace_days: String(r.deletionGraceDays),
    deletion_record_days: String(DELETION_RECORD_RETENTION_DAYS),
    audit_log_days: String(r.auditLogRetentionDays),
    session_cleanup_days: String(r.sessionCleanupDays),
    export_ttl_hours: String(r.exportTtlHours),
  };
}

/** Fills every placeholder; an unknown one is a template error, never shown to users. */
export function renderNotice(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`privacy notice template: unknown placeholder {{${name}}}`);
    return value;
  });
}

export async function renderNoticeTemplate(config: NoticeConfig, effectiveDate: string): Promise<string> {
  const template = await readFile(noticeTemplatePath(), 'utf8');
  return renderNotice(template, noticeValues(config, effectiveDate));
}
