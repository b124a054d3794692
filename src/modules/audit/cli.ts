import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../cli/command.js';
import type { AuditChainService } from './chain-service.js';

const usage = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};

/** What the audit commands use (src/cli.ts passes the services lazily). */
export interface AuditCliServices {
  auditChain: AuditChainService;
}

/** CLI commands of this module (docs/operations.md#command-line); audited as `system`. */
export const auditCommands: CliCommands<AuditCliServices> = {
  'audit:seal': {
    help: 'seal every committed audit entry into the chain now (waits for a running sealer)',
    run: async (args, open) => {
      parseArgs({ args, options: {} });
      const { auditChain } = await open();
      const result = await auditChain.seal({ wait: true });
      const head = result.head ? `the chain ends at seq ${String(result.head.seq)}` : 'the chain is empty';
      say(`sealed ${String(result.sealed)} audit entries; ${head}`);
      return 0;
    },
  },

  'audit:verify': {
    help: '[--max-unsealed-age SECONDS]  verify the audit chain and its checkpoints, count unsealed entries; exit 1 when broken (or when the oldest unsealed entry is older)',
    run: async (args, open) => {
      const { values } = parseArgs({ args, options: { 'max-unsealed-age': { type: 'string' } } });
      const rawAge = values['max-unsealed-age'];
      if (rawAge !== undefined && !/^\d{1,9}$/.test(rawAge.trim())) {
        return usage(`--max-unsealed-age must be a whole number of seconds, got "${rawAge}"`);
      }
      const { auditChain } = await open();
      const result = await auditChain.verify();
      if (result.ok) {
        const checkpoint = result.checkpoint
          ? `last checkpoint at seq ${String(result.checkpoint.seq)}`
          : 'no checkpoint yet';
        say(`audit chain intact: ${String(result.checked)} entries, ${checkpoint}`);
      } else {
        const broken = result.firstBroken;
        const where = broken?.id == null ? '' : ` (id ${String(broken.id)})`;
        say(
          `audit chain BROKEN at seq ${String(broken?.seq ?? 'none')}${where}: ${broken?.problem ?? 'unknown'}`,
        );
      }
      const { count, oldestAgeSeconds } = result.unsealed;
      const oldest = oldestAgeSeconds === null ? '' : `, the oldest ${String(oldestAgeSeconds)} s old`;
      say(`unsealed: ${String(count)} entries${oldest}`);
      if (!result.ok) return 1;
      if (rawAge !== undefined && oldestAgeSeconds !== null && oldestAgeSeconds > Number(rawAge)) {
        process.stderr.write(
          `the oldest unsealed entry is older than ${rawAge.trim()} s: is the audit.seal job running?\n`,
        );
        return 1;
      }
      return 0;
    },
  },

  'audit:purge': {
    help: '[--retention-days N] [--dry-run] [--yes]  delete audit entries older than the retention (default AUDIT_LOG_RETENTION_DAYS)',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: {
          'retention-days': { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          yes: { type: 'boolean', default: false },
        },
      });
      const raw = values['retention-days'];
      if (raw !== undefined && (!/^\d{1,6}$/.test(raw.trim()) || Number(raw) < 1)) {
        return usage(`--retention-days must be a whole number of at least 1, got "${raw}"`);
      }
      const { auditChain } = await open();
      const confirmed = values.yes && !values['dry-run'];
      const result = await auditChain.purge({
        retentionDays: raw === undefined ? undefined : Number(raw),
        dryRun: !confirmed,
      });
      const what = `entries older than ${result.cutoff.toISOString()} (retention ${String(result.retentionDays)} days)`;
      if (confirmed) {
        say(`deleted ${String(result.deleted)} audit ${what}`);
        if (result.firstKeptSeq !== null) say(`the chain now starts at seq ${String(result.firstKeptSeq)}`);
        return 0;
      }
      if (values['dry-run']) {
        say(`dry run: would delete ${String(result.deleted)} audit ${what}; nothing was changed`);
        return 0;
      }
      // No interactive confirmation (CI and jobs have no stdin): refuse without --yes.
      say(`would delete ${String(result.deleted)} audit ${what}`);
      process.stderr.write('refusing to delete without --yes (or use --dry-run)\n');
      return 2;
    },
  },
};
