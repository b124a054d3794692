import type { Container } from '../../container.js';
import { checkEmail } from '../../lib/email.js';
import { createUserRepo } from './repo.js';

/**
 * Creates the superuser named by DJANGO_SUPERUSER_* unless that e-mail exists (spec operations.md §1,
 * the original's create_superuser_auto). Returns what happened, for the start-up log.
 */
export async function bootstrapSuperuser(
  c: Container,
  input: { email: string; password: string; firstName: string; lastName: string },
): Promise<'created' | 'exists'> {
  const email = checkEmail(input.email, c.config.allowedEmailDomains);
  if (!email.ok) throw new Error(`DJANGO_SUPERUSER_EMAIL: ${email.message}`);
  return c.db.transaction(async (tx) => {
    if (await createUserRepo(tx).findByEmail(email.value)) return 'exists' as const;
    await c.auth.createAccount(tx, {
      email: email.value,
      password: input.password,
      firstName: input.firstName,
      lastName: input.lastName,
      role: 'superuser',
    });
    return 'created' as const;
  });
}

export async function hasSuperuser(c: Container): Promise<boolean> {
  return (await createUserRepo(c.db).countSuperusers()) > 0;
}
