import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Mapping of `sent_mail` (see its migration; SentMailRepository owns the SQL). */
@Entity('sent_mail')
@Index('idx_sent_mail_sent_at', ['sentAt'])
export class SentMailEntity {
  @PrimaryColumn({ name: 'key_hash', type: 'char', length: 64, charset: 'ascii', collation: 'ascii_bin' })
  keyHash!: string;
  @Column({ name: 'dedupe_key', type: 'varchar', length: 512 }) dedupeKey!: string;
  @Column({ type: 'varchar', length: 64 }) template!: string;
  @Column({ name: 'message_id', type: 'varchar', length: 255 }) messageId!: string;
  @Column({ name: 'sent_at', type: 'datetime', precision: 3 }) sentAt!: Date;
}
