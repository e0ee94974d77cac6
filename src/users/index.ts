/** The users module's public API. */
export { UsersService, type UserProfile } from './users.service';
export { AccessTokens } from './access-tokens.service';
export type { UserRole } from './user.entity';
