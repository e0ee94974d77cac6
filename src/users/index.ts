/** The users module's public API. */
export { UsersService } from './users.service';
export type { UserProfile } from './users.types';
export { AccessTokens } from './access-tokens.service';
export type { UserRole } from './user.entity';
