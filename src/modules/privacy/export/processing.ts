import { randomBytes } from 'node:crypto';
import type { Config } from '../../../config.js';
import type { Db } from '../../../db/client.js';
import { fieldAad, type FieldCipher } from '../../../lib/crypto/field-cipher.js';
import { sha256Hex } from '../../../lib/crypto/hash.js';
import type { Log } from '../../../lib/log.js';
import { recordAudit, recordAudits } from '../../audit/index.js';
import type { DataKeyStore } from '../../keys/index.js';
import type { Mailer } from '../../mail/index.js';
import { buildExport, EXPORT_SECTIONS, serializeExport } from './document.js';
import { createExportRepo } from './repo.js';

/**
 * The background side of data export (docs/privacy.md#data-export): building queued jobs (job
 * `export.build`, the POST's immediate kick) and removing expired documents (job `exports.purge`,
 * CLI `exports:purge`).
 */
export interface ExportBuildDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: Pick<DataKeyStore, 'find' | 'obtain'>;
  mailer: Pick<Mailer, 'queue'>;
  logger: Log;
  now: () => Date;
  config: Pick<Config, 'frontendUrl'> & { retention: Pick<Config['retention'], 'exportTtlHours'> };
}

export const EXPORT_RESOURCE = 'data_export_request';
// PRIVACY: the stored error is generic; the cause (which could quote data) goes to the log only.
export const FAILURE_MESSAGE = 'The export could not be generated.';
const MAX_PER_RUN = 25;
const HOUR_MS = 3_600_000;

export const exportTtlMs = (config: ExportBuildDeps['config']) => config.retention.exportTtlHours * HOUR_MS;
export const documentAad = (id: number) => fieldAad('data_export_requests', 'document', id);
export const errorName = (err: unknown) => (err instanceof Error ? err.name : 'unknown');

/**
 * Builds pending export jobs (the job, the POST's background kick and tests call this). Each job is
 * claimed with `FOR UPDATE SKIP LOCKED` and built, stored and completed in that one transaction, so
 * several instances never build the same job and a crash leaves it `pending` for the next run.
 */
export async function processPendingExports(
  deps: ExportBuildDeps,
): Promise<{ completed: number; failed: number }> {
  const result = { completed: 0, failed: 0 };
  for (let i = 0; i < MAX_PER_RUN; i += 1) {
    const outcome = await processOne(deps);
    if (outcome === null) break;
    result[outcome] += 1;
  }
  return result;
}

async function processOne(deps: ExportBuildDeps): Promise<'completed' | 'failed' | null> {
  const { db, cipher, dataKeys, mailer, logger, now, config } = deps;
  const ttlMs = exportTtlMs(config);
  let claimed: number | null = null;
  try {
    const done = await db.transaction(async (tx) => {
      const repo = createExportRepo(tx);
      const job = await repo.claimNextPending();
      if (!job) return null;
      claimed = job.id;
      await repo.update(job.id, { status: 'processing' });
      const doc = await buildExport(deps, job.userId, tx);
      const dek = await dataKeys.obtain(tx, job.userId);
      const token = randomBytes(32).toString('base64url');
      const completedAt = now();
      await repo.update(job.id, {
        status: 'completed',
        completedAt,
        expiresAt: new Date(completedAt.getTime() + ttlMs),
        // PRIVACY: encrypted with the user's key, so erasure (key destruction) shreds it too.
        document: cipher.encrypt(dek, serializeExport(doc), documentAad(job.id)),
        downloadTokenHash: sha256Hex(token),
        errorMessage: null,
      });
      await recordAudit(
        tx,
        { actor: null, meta: null },
        {
          action: 'export',
          resourceType: EXPORT_RESOURCE,
          resourceId: job.id,
          subjectUserId: job.userId,
          fields: [...EXPORT_SECTIONS],
          metadata: { mode: 'async' },
        },
      );
      const base = config.frontendUrl.replace(/\/+$/, '');
      // Queued in this transaction: the link exists only if the export does, and is never lost.
      await mailer.queue(tx, 'export_ready', doc.user_account.email, {
        name: doc.user_account.first_name,
        link: `${base}/data-export/download?id=${String(job.id)}&token=${token}`,
        apiPath: `/api/popia/data-export/${String(job.id)}/download/?token=${token}`,
        hours: config.retention.exportTtlHours,
      });
      return job.id;
    });
    if (done === null) return null;
    return 'completed';
  } catch (err) {
    if (claimed === null) throw err;
    const id: number = claimed;
    logger.error({ err: errorName(err), export_request_id: id }, 'data export job failed');
    await createExportRepo(db).failIfPending(id, FAILURE_MESSAGE);
    return 'failed';
  }
}

/** Removes export documents past their expiry (rows are kept as the record of the export). */
export async function purgeExpiredExports({
  db,
  now,
}: Pick<ExportBuildDeps, 'db' | 'now'>): Promise<{ purged: number }> {
  return db.transaction(async (tx) => {
    const purged = await createExportRepo(tx).clearExpiredDocuments(now());
    await recordAudits(
      tx,
      { actor: null, meta: null },
      purged.map((row) => ({
        action: 'delete',
        resourceType: EXPORT_RESOURCE,
        resourceId: row.id,
        subjectUserId: row.userId,
        fields: ['document'],
        reason: 'expired',
      })),
    );
    return { purged: purged.length };
  });
}
