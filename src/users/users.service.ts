import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { NotFoundError } from '../common/errors/domain-error';
import { EmailTakenError } from './auth.errors';
import { User, UserRole } from './user.entity';
import { UsersRepository } from './users.repository';
import type { UserProfile } from './users.types';

export const toProfile = (u: User): UserProfile => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  emailVerified: u.emailVerifiedAt !== null,
  createdAt: u.createdAt,
});

/**
 * The one spelling of an email: NFKC (full-width and compatibility forms to their plain letters),
 * trimmed, lowercased. The column's accent-insensitive collation still finds `ádmin@` as
 * `admin@`, so decisions about an account key on its id, never on the typed spelling.
 */
export const normalizeEmail = (email: string): string => email.normalize('NFKC').trim().toLowerCase();

@Injectable()
export class UsersService {
  constructor(private readonly repo: UsersRepository) {}

  /** Inserts a user; the unique email index decides races (→ EMAIL_TAKEN). */
  async create(input: {
    email: string;
    passwordHash: string;
    name: string;
    role?: UserRole;
    /** Created as verified (the configured admin, seeded data): no link to follow. */
    emailVerified?: boolean;
  }): Promise<UserProfile> {
    const now = new Date();
    const user = Object.assign(new User(), {
      id: newId(),
      email: normalizeEmail(input.email),
      passwordHash: input.passwordHash,
      name: input.name,
      role: input.role ?? 'customer',
      lockedUntil: null,
      emailVerifiedAt: input.emailVerified ? now : null,
      createdAt: now,
      updatedAt: now,
    });
    if (!(await this.repo.insert(user))) throw new EmailTakenError();
    return toProfile(user);
  }

  /** For authentication decisions: read on the primary so a just-registered user can log in at once. */
  async findCredentials(email: string): Promise<User | null> {
    return this.repo.findByEmail(normalizeEmail(email));
  }

  /** With the password hash, by id (password change): on the primary. */
  async findCredentialsById(id: string): Promise<User | null> {
    return this.repo.findById(id);
  }

  async findById(id: string, opts: { primary?: boolean } = {}): Promise<UserProfile | null> {
    const u = await this.repo.findById(id, opts.primary ? 'primary' : 'reader');
    return u ? toProfile(u) : null;
  }

  /**
   * Where to mail each of `ids` (address and name), read on the primary in one statement; an
   * unknown id is absent from the map.
   */
  async contacts(ids: string[]): Promise<Map<string, { email: string; name: string }>> {
    const rows = await this.repo.contacts([...new Set(ids)]);
    return new Map(rows.map((r) => [r.id, { email: r.email, name: r.name }]));
  }

  async getById(id: string): Promise<UserProfile> {
    const u = await this.repo.findById(id, 'failover');
    if (!u) throw new NotFoundError('User', 'USER_NOT_FOUND');
    return toProfile(u);
  }

  /**
   * Whether the user's email address is verified, read on the primary (authoritative, for
   * decisions such as order caps); false for an unknown id. The access token's
   * `emailVerified` claim says the same as of its issue (at most JWT_ACCESS_TTL_SECONDS old).
   */
  async isEmailVerified(id: string): Promise<boolean> {
    return !!(await this.repo.emailVerifiedAt(id));
  }

  /**
   * Marks the address verified if it is still `email` and not verified yet; false when nothing
   * changed (already verified, or the account's address is another one now).
   */
  async markEmailVerified(id: string, email: string): Promise<boolean> {
    return this.repo.markEmailVerified(id, email, new Date());
  }

  async existsByEmail(email: string): Promise<boolean> {
    return (await this.findCredentials(email)) !== null;
  }

  /**
   * Replaces the password hash with one of today's parameters, only if it is still `previous`
   * (a password changed meanwhile is never overwritten); false when it was not.
   */
  async replaceHash(id: string, previous: string, next: string): Promise<boolean> {
    return this.repo.replaceHash(id, previous, next);
  }

  /** Refuses logins to the account until `until` (brute force on it); never shortens a lock. */
  async lock(id: string, until: Date): Promise<void> {
    await this.repo.lock(id, until);
  }
}
