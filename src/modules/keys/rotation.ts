import { and, asc, count, eq, gt, ne } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { dataKeys } from '../../db/schema.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { recordAudit } from '../audit/index.js';

/**
 * Master-key rotation (docs/privacy.md#encryption-and-keys, docs/operations.md#command-line `keys:rotate`): after the new master
 * key is configured as active on every instance (old keys stay configured), every data key still
 * wrapped by an older master key is re-wrapped by the active one, in small batches, while the
 * service keeps serving. The data keys themselves do not change, so no field is re-encrypted and
 * readers see either wrapping as valid.
 */
const BATCH = 200;

export async function rotateDataKeys(
  deps: { db: Db; cipher: FieldCipher; now: () => Date },
  onProgress: (done: number) => void = () => undefined,
): Promise<{ rewrapped: number; activeKeyId: string }> {
  const { db, cipher, now } = deps;
  const target = cipher.activeKeyId;
  let rewrapped = 0;
  // Passes until nothing is left: rows locked by another transaction during a pass are skipped
  // and taken by the next one.
  for (let pass = 0; pass < 100; pass += 1) {
    let after = 0;
    let inPass = 0;
    for (;;) {
      const batch = await db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(dataKeys)
          .where(and(ne(dataKeys.masterKeyId, target), gt(dataKeys.userId, after)))
          .orderBy(asc(dataKeys.userId))
          .limit(BATCH)
          .for('update', { skipLocked: true });
        for (const row of rows) {
          const wrapped = cipher.wrap(row.userId, cipher.unwrap(row.userId, row), target);
          await tx
            .update(dataKeys)
            .set({ ...wrapped, rewrappedAt: now() })
            .where(eq(dataKeys.userId, row.userId));
        }
        return rows;
      });
      if (batch.length === 0) break;
      inPass += batch.length;
      after = batch.at(-1)?.userId ?? after;
      onProgress(rewrapped + inPass);
    }
    rewrapped += inPass;
    const left = await db.select({ n: count() }).from(dataKeys).where(ne(dataKeys.masterKeyId, target));
    if ((left[0]?.n ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await recordAudit(
    db,
    { actor: null, meta: null },
    {
      action: 'key_rotated',
      resourceType: 'data_key',
      metadata: { active_key_id: target, rewrapped },
    },
  );
  return { rewrapped, activeKeyId: target };
}

/** Data keys per master key id, and which of those ids are configured. */
export async function dataKeyStatus(db: Db, configured: ReadonlySet<string>) {
  const rows = await db
    .select({ masterKeyId: dataKeys.masterKeyId, n: count() })
    .from(dataKeys)
    .groupBy(dataKeys.masterKeyId)
    .orderBy(asc(dataKeys.masterKeyId));
  return rows.map((r) => ({
    masterKeyId: r.masterKeyId,
    dataKeys: r.n,
    configured: configured.has(r.masterKeyId),
  }));
}
