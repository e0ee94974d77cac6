import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

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
  @Column({ name: 'locked_until', type: 'datetime', precision: 3, nullable: true })
  lockedUntil!: Date | null;

  /** When the owner followed a verification link (or a reset link) mailed to `email`; NULL = not yet. */
  @Column({ name: 'email_verified_at', type: 'datetime', precision: 3, nullable: true })
  emailVerifiedAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}
