import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { NotFoundError } from '../common/errors/domain-error';
import { DbRouter } from '../infra/database/db-router.service';
import { isDuplicate } from '../infra/database/mysql-results';
import { EmailTakenError } from './auth.errors';
import { User, UserRole } from './user.entity';

/** What other modules may know about a user (never the password hash). */
export interface UserProfile {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  /** The owner proved they receive mail at `email` (a verification or reset link). */
  emailVerified: boolean;
  createdAt: Date;
}

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
  constructor(private readonly db: DbRouter) {}

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
    try {
      await this.db.writeRepo(User).insert(user);
    } catch (err) {
      if (isDuplicate(err)) throw new EmailTakenError();
      throw err;
    }
    return toProfile(user);
  }

  /** For authentication decisions: read on the primary so a just-registered user can log in at once. */
  async findCredentials(email: string): Promise<User | null> {
    return this.db
      .primaryReader()
      .getRepository(User)
      .findOneBy({ email: normalizeEmail(email) });
  }

  /** With the password hash, by id (password change): on the primary. */
  async findCredentialsById(id: string): Promise<User | null> {
    return this.db.primaryReader().getRepository(User).findOneBy({ id });
  }

  async findById(id: string, opts: { primary?: boolean } = {}): Promise<UserProfile | null> {
    const repo = opts.primary ? this.db.primaryReader().getRepository(User) : this.db.readRepo(User);
    const u = await repo.findOneBy({ id });
    return u ? toProfile(u) : null;
  }

  async getById(id: string): Promise<UserProfile> {
    const u = await this.db.read((em) => em.getRepository(User).findOneBy({ id }));
    if (!u) throw new NotFoundError('User', 'USER_NOT_FOUND');
    return toProfile(u);
  }

  /**
   * Whether the user's email address is verified, read on the primary (authoritative, for
   * decisions such as order caps); false for an unknown id. The access token's
   * `emailVerified` claim says the same as of its issue (at most JWT_ACCESS_TTL_SECONDS old).
   */
  async isEmailVerified(id: string): Promise<boolean> {
    const u = await this.db
      .primaryReader()
      .getRepository(User)
      .findOne({ where: { id }, select: { id: true, emailVerifiedAt: true } });
    return !!u?.emailVerifiedAt;
  }

  /**
   * Marks the address verified if it is still `email` and not verified yet; false when nothing
   * changed (already verified, or the account's address is another one now).
   */
  async markEmailVerified(id: string, email: string): Promise<boolean> {
    const now = new Date();
    const res = await this.db
      .writeRepo(User)
      .createQueryBuilder()
      .update()
      .set({ emailVerifiedAt: now, updatedAt: now })
      .where('id = :id AND email = :email AND email_verified_at IS NULL', { id, email })
      .execute();
    return res.affected === 1;
  }

  async existsByEmail(email: string): Promise<boolean> {
    return (await this.findCredentials(email)) !== null;
  }

  /**
   * Replaces the password hash with one of today's parameters, only if it is still `previous`
   * (a password changed meanwhile is never overwritten); false when it was not.
   */
  async replaceHash(id: string, previous: string, next: string): Promise<boolean> {
    const res = await this.db
      .writeRepo(User)
      .createQueryBuilder()
      .update()
      .set({ passwordHash: next, updatedAt: new Date() })
      .where('id = :id AND password_hash = :previous', { id, previous })
      .execute();
    return res.affected === 1;
  }

  /** Refuses logins to the account until `until` (brute force on it); never shortens a lock. */
  async lock(id: string, until: Date): Promise<void> {
    await this.db
      .writeRepo(User)
      .createQueryBuilder()
      .update()
      .set({ lockedUntil: until, updatedAt: new Date() })
      .where('id = :id AND (locked_until IS NULL OR locked_until < :until)', { id, until })
      .execute();
  }
}
