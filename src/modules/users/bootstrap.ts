import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { checkEmail } from '../../lib/email.js';
import type { AccountCreator } from './accounts.js';
import { createUserRepo } from './repo.js';

export interface BootstrapDeps {
  db: Db;
  createAccount: AccountCreator;
  config: Pick<Config, 'allowedEmailDomains'>;
}

/**
 * Creates the superuser named by DJANGO_SUPERUSER_* unless that e-mail exists
 * (docs/operations.md#start-up-and-shutdown, the original's create_superuser_auto). Returns what
 * happened, for the start-up log.
 */
export async function bootstrapSuperuser(
  deps: BootstrapDeps,
  input: { email: string; password: string; firstName: string; lastName: string },
): Promise<'created' | 'exists'> {
  const email = checkEmail(input.email, deps.config.allowedEmailDomains);
  if (!email.ok) throw new Error(`DJANGO_SUPERUSER_EMAIL: ${email.message}`);
  return deps.db.transaction(async (tx) => {
    if (await createUserRepo(tx).findByEmail(email.value)) return 'exists' as const;
    await deps.createAccount(tx, {
      email: email.value,
      password: input.password,
      firstName: input.firstName,
      lastName: input.lastName,
      role: 'superuser',
    });
    return 'created' as const;
  });
}

export async function hasSuperuser(deps: { db: Db }): Promise<boolean> {
  return (await createUserRepo(deps.db).countSuperusers()) > 0;
}
