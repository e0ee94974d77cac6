import { Column, PrimaryColumn } from 'typeorm';
import { DateTimeColumn } from '../infra/database/timestamp-columns';

/**
 * The columns every single-use secret mailed or handed to a user shares (refresh tokens,
 * password-reset links): the secret is stored only as its SHA-256 (`token_hash`, unique per
 * table), with the moment it stops being accepted.
 */
export abstract class StoredToken {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @DateTimeColumn('expires_at')
  expiresAt!: Date;

  @DateTimeColumn('created_at')
  createdAt!: Date;
}
