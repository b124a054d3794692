import type { Tx } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { escapeText } from '../../lib/escape.js';
import type { PasswordHasher } from '../../lib/password-hasher.js';
import type { DataKeyStore } from '../keys/index.js';
import { emptyProfile, sealProfile } from './profile-codec.js';
import { createUserRepo, type UserRow } from './repo.js';

export interface NewAccount {
  email: string;
  /** null: an account that cannot sign in with a password. */
  password: string | null;
  /**
   * `password` already hashed by the caller before its transaction: a wait at the password-hashing gate
   * (docs/operations.md#password-hashing) must not hold a database connection (registration does this).
   */
  passwordHash?: string | undefined;
  firstName: string;
  lastName: string;
  role: UserRow['role'];
}

export interface AccountCreatorDeps {
  hasher: PasswordHasher;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  now: () => Date;
}

/**
 * Creates a user with an empty profile and a data key inside the caller's transaction: registration,
 * staff-created accounts and the bootstrap superuser all make accounts this way. Names are escaped here.
 */
export function createAccountCreator({ hasher, cipher, dataKeys, now }: AccountCreatorDeps) {
  return async (tx: Tx, input: NewAccount): Promise<UserRow> => {
    const at = now();
    const repo = createUserRepo(tx);
    const passwordHash =
      input.passwordHash ?? (input.password === null ? '!unusable' : await hasher.hash(input.password));
    const user = await repo.insert({
      email: input.email,
      password: passwordHash,
      firstName: escapeText(input.firstName),
      lastName: escapeText(input.lastName),
      role: input.role,
      dateJoined: at,
      createdAt: at,
      updatedAt: at,
      passwordLastChanged: at,
    });
    const dek = await dataKeys.obtain(tx, user.id);
    // The empty profile is a record too (docs/privacy.md#one-envelope-per-row).
    await repo.insertEmptyProfile(user.id, at, sealProfile(cipher, dek, user.id, emptyProfile()));
    return user;
  };
}
export type AccountCreator = ReturnType<typeof createAccountCreator>;
