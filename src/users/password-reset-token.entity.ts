import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { DateTimeColumn } from '../infra/database/timestamp-columns';
import { StoredToken } from './stored-token';
import { User } from './user.entity';

/** One mailed password-reset link, stored as the SHA-256 of its token; usable once, until expiry. */
@Entity('password_reset_tokens')
@Index('uq_password_reset_tokens_hash', ['tokenHash'], { unique: true })
@Index('ix_password_reset_tokens_user', ['userId'])
@Index('ix_password_reset_tokens_expires', ['expiresAt'])
export class PasswordResetToken extends StoredToken {
  @Column({ name: 'user_id', type: 'char', length: 36 })
  @ForeignKey(() => User, {
    name: 'fk_password_reset_tokens_user',
    onDelete: 'CASCADE',
    onUpdate: 'RESTRICT',
  })
  userId!: string;

  /** Set when the token was spent (or when another reset of the account made it void). */
  @DateTimeColumn('used_at', { nullable: true })
  usedAt!: Date | null;
}
