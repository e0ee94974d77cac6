import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../infra/database/timestamp-columns';

export type UserRole = 'customer' | 'admin';

@Entity('users')
@Index('uq_users_email', ['email'], { unique: true })
export class User {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  /** Stored normalized (NFKC, trimmed, lowercased); unique under the column's collation. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, select: true })
  passwordHash!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'enum', enum: ['customer', 'admin'], default: 'customer' })
  role!: UserRole;

  /** Set when too many wrong passwords were tried (LOGIN_LOCK_AFTER_FAILURES); logins are refused until then. */
  @DateTimeColumn('locked_until', { nullable: true })
  lockedUntil!: Date | null;

  /** When the owner followed a verification link (or a reset link) mailed to `email`; NULL = not yet. */
  @DateTimeColumn('email_verified_at', { nullable: true })
  emailVerifiedAt!: Date | null;

  @DateTimeColumn('created_at')
  createdAt!: Date;

  @DateTimeColumn('updated_at')
  updatedAt!: Date;
}
