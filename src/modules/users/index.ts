/**
 * The users module's public face (other modules, plugins and the root import only this file):
 * accounts, profiles and the user object U (docs/contract.md#users).
 */
export {
  createAccountService,
  PRIVILEGED_CREATION,
  type AccountService,
  type AccountServiceDeps,
  type PrivilegedKind,
} from './account-service.js';
export { createAccountCreator, type AccountCreator, type NewAccount } from './accounts.js';
export { bootstrapSuperuser, hasSuperuser, type BootstrapDeps } from './bootstrap.js';
export { fieldErrors, parseBody } from './input.js';
export { openProfile, type ProfileValues } from './profile-codec.js';
export { MEDICAL_FIELDS, ProfileInput, type ProfileInputValues } from './profile-fields.js';
export { createProfileService, type ProfileService, type ProfileServiceDeps } from './profile-service.js';
export { writeProfile } from './profile-writer.js';
export { profileReadItem, userReadItem } from './read-audit.js';
export { profileSealedTable } from './reseal.js';
export { createUserReader, type UserReader } from './reader.js';
export {
  createUserRepo,
  type ProfileRow,
  type UserRepo,
  type UserRow,
  type UserWithProfile,
} from './repo.js';
export { usersRoutes } from './routes.js';
export { ProfileSchema, UserSchema } from './schemas.js';
export { profileResponse, userResponse, type ProfileResponse, type UserResponse } from './serialize.js';
export { createUsersService, type UsersService, type UsersServiceDeps } from './service.js';
