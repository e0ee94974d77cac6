import { Column, Entity, ForeignKey, Index } from 'typeorm';
import { DateTimeColumn } from '../infra/database/timestamp-columns';
import { StoredToken } from './stored-token';
import { User } from './user.entity';

/**
 * One issued refresh token, stored as the SHA-256 of the opaque value. Tokens of one login
 * form a family: each refresh rotates the current token into a new one of the same family.
 */
@Entity('refresh_tokens')
@Index('uq_refresh_tokens_hash', ['tokenHash'], { unique: true })
@Index('ix_refresh_tokens_family', ['familyId'])
@Index('ix_refresh_tokens_user', ['userId'])
@Index('ix_refresh_tokens_expires', ['expiresAt'])
export class RefreshToken extends StoredToken {
  @Column({ name: 'user_id', type: 'char', length: 36 })
  @ForeignKey(() => User, { name: 'fk_refresh_tokens_user', onDelete: 'CASCADE', onUpdate: 'RESTRICT' })
  userId!: string;

  @Column({ name: 'family_id', type: 'char', length: 36 })
  familyId!: string;

  /** Set when this token was exchanged for its successor; presenting it again is reuse. */
  @DateTimeColumn('rotated_at', { nullable: true })
  rotatedAt!: Date | null;

  @DateTimeColumn('revoked_at', { nullable: true })
  revokedAt!: Date | null;
}
