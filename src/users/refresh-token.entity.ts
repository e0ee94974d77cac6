import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
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
export class RefreshToken {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  @ForeignKey(() => User, { name: 'fk_refresh_tokens_user', onDelete: 'CASCADE', onUpdate: 'RESTRICT' })
  userId!: string;

  @Column({ name: 'family_id', type: 'char', length: 36 })
  familyId!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;

  /** Set when this token was exchanged for its successor; presenting it again is reuse. */
  @Column({ name: 'rotated_at', type: 'datetime', precision: 3, nullable: true })
  rotatedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'datetime', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
