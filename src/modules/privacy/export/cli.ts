import { type CliCommands, say } from '../../../cli/command.js';
import type { ExportService } from './service.js';

/** CLI commands of data export (docs/operations.md#command-line). */
export const exportCommands: CliCommands<{ exports: ExportService }> = {
  'exports:purge': {
    help: 'remove export documents past their expiry (the request records stay)',
    run: async (_args, open) => {
      const { exports } = await open();
      const { purged } = await exports.purgeExpired();
      say(`expired export documents removed: ${String(purged)}`);
      return 0;
    },
  },
};
