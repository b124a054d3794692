/** The keys module's public face: per-user data keys, the erased-subject lock, rotation commands. */
export { assertLiveSubject, createDataKeyStore, lockLiveSubject, type DataKeyStore } from './data-keys.js';
export { keyCommands } from './cli.js';
