import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type LoginOutcome = 'success' | 'failure';
export type LoginEventKind = 'login' | 'logout';
/** `busy`: refused with AUTH_BUSY before the password was checked (every hashing slot taken). */
export type LoginFailureReason = 'unknown_email' | 'wrong_password' | 'rate_limited' | 'locked' | 'busy';

@Entity('login_audits')
@Index('ix_login_audits_created', ['createdAt', 'id'])
@Index('ix_login_audits_email', ['email', 'createdAt', 'id'])
@Index('ix_login_audits_user', ['userId', 'createdAt', 'id'])
export class LoginAuditRow {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  /** Null when the email matched no account. */
  @Column({ name: 'user_id', type: 'char', length: 36, nullable: true })
  userId!: string | null;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'enum', enum: ['login', 'logout'], default: 'login' })
  event!: LoginEventKind;

  @Column({ type: 'enum', enum: ['success', 'failure'] })
  outcome!: LoginOutcome;

  @Column({ type: 'varchar', length: 32, nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 45 })
  ip!: string;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
