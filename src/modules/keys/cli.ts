import { say, type CliCommands } from '../../cli/command.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { dataKeyStatus, rotateDataKeys } from './rotation.js';

export interface KeyCommandDeps {
  db: Db;
  cipher: FieldCipher;
  now: () => Date;
  config: { encryption: Pick<Config['encryption'], 'keys' | 'activeKeyId'> };
}

/** Key management commands (docs/operations.md#command-line). */
export const keyCommands: CliCommands<KeyCommandDeps> = {
  'keys:rotate': {
    help: 're-wrap every data key with the active master key (FIELD_ENCRYPTION_ACTIVE_KEY); safe while serving',
    run: async (_args, container) => {
      const c = await container();
      const result = await rotateDataKeys(c, (done) => {
        say(`re-wrapped ${done} data keys so far`);
      });
      say(`re-wrapped ${result.rewrapped} data keys with master key "${result.activeKeyId}"`);
      return 0;
    },
  },
  'keys:status': {
    help: 'count data keys per master key id (a key id that is not configured cannot be read)',
    run: async (_args, container) => {
      const c = await container();
      const rows = await dataKeyStatus(c.db, new Set(c.config.encryption.keys.keys()));
      say(`active master key: ${c.config.encryption.activeKeyId}`);
      for (const r of rows)
        say(`${r.masterKeyId}: ${r.dataKeys} data keys${r.configured ? '' : ' (NOT CONFIGURED)'}`);
      return rows.every((r) => r.configured) ? 0 : 1;
    },
  },
};
