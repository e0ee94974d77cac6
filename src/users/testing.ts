/**
 * What only test/, scripts/ and bench/ may import from the users module (the refresh-token purge
 * schedule a test drives, the password hasher the seed uses for bulk accounts). Application code
 * uses `./index.ts`; dependency-cruiser forbids importing this file from src/.
 */
export { PURGE_GRACE_SECONDS } from './refresh-tokens.service';
export { PURGE_EVERY_MS, PURGE_REFRESH_TOKENS_JOB } from './users-housekeeping.processor';
export { hashPassword } from './passwords';
