import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { dataKeys, users } from '../../db/schema.js';
import { recordAudit } from '../audit/index.js';
import type { BackedUpKey } from './backup.js';

const BATCH = 500;

export interface KeyRestoreReport {
  /** Keys put back: the user is live and had no data key. */
  restored: number;
  /** The user has a data key already (it is kept: records written since are sealed with it). */
  present: number;
  /** Never restored: the person was erased (crypto-shredding is final) or the account is gone. */
  erased: number;
  unknown: number;
  /** Wrapped by a master key this service is not configured with: unreadable, so not restored. */
  unknownMasterKey: number;
}

/**
 * Puts data keys from a checked backup back into `data_keys` where a live user has none (a lost or
 * damaged table, a database restored without it). Never overwrites a key and never restores one of an
 * erased person: each batch locks its users' rows `FOR KEY SHARE`, as every writer of keys does, so
 * an erasure running meanwhile either finishes first (and the key is not restored) or waits for the
 * batch and then deletes the restored key with the rest.
 */
export async function restoreKeyBackup(
  deps: { db: Db; configuredMasterKeys: ReadonlySet<string> },
  keys: readonly BackedUpKey[],
  opts: { dryRun: boolean },
): Promise<KeyRestoreReport> {
  const report: KeyRestoreReport = { restored: 0, present: 0, erased: 0, unknown: 0, unknownMasterKey: 0 };
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    await deps.db.transaction(async (tx) => {
      const ids = batch.map((k) => k.user_id);
      const people = await tx
        .select({ id: users.id, anonymizedAt: users.anonymizedAt })
        .from(users)
        .where(inArray(users.id, ids))
        .for('key share');
      const live = new Set(people.filter((p) => p.anonymizedAt === null).map((p) => p.id));
      const erased = new Set(people.filter((p) => p.anonymizedAt !== null).map((p) => p.id));
      const existing = await tx
        .select({ userId: dataKeys.userId })
        .from(dataKeys)
        .where(inArray(dataKeys.userId, ids));
      const present = new Set(existing.map((r) => r.userId));
      const toRestore: BackedUpKey[] = [];
      for (const k of batch) {
        if (erased.has(k.user_id)) report.erased += 1;
        else if (!live.has(k.user_id)) report.unknown += 1;
        else if (present.has(k.user_id)) report.present += 1;
        else if (!deps.configuredMasterKeys.has(k.master_key_id)) report.unknownMasterKey += 1;
        else toRestore.push(k);
      }
      if (toRestore.length === 0 || opts.dryRun) {
        report.restored += toRestore.length;
        return;
      }
      const inserted = await tx
        .insert(dataKeys)
        .values(
          toRestore.map((k) => ({
            userId: k.user_id,
            masterKeyId: k.master_key_id,
            wrappedKey: k.wrapped_key,
            createdAt: new Date(k.created_at),
          })),
        )
        .onConflictDoNothing()
        .returning({ userId: dataKeys.userId });
      report.restored += inserted.length;
      report.present += toRestore.length - inserted.length;
    });
  }
  if (!opts.dryRun) {
    await recordAudit(
      deps.db,
      { actor: null, meta: null },
      {
        action: 'data_keys_restored',
        resourceType: 'data_key',
        metadata: { ...report, in_backup: keys.length },
      },
    );
  }
  return report;
}
