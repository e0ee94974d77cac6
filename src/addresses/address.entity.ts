import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';

/** Mapping of the `addresses` table (SQL lives in AddressesRepository; this documents the shape). */
@Entity('addresses')
@Index('idx_addresses_user', ['userId', 'createdAt'])
export class AddressEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @Column({ name: 'full_name', type: 'varchar', length: 100 }) fullName!: string;
  @Column({ type: 'varchar', length: 100, nullable: true }) company!: string | null;
  @Column({ type: 'varchar', length: 200 }) line1!: string;
  @Column({ type: 'varchar', length: 200, nullable: true }) line2!: string | null;
  @Column({ type: 'varchar', length: 100 }) city!: string;
  @Column({ type: 'varchar', length: 100, nullable: true }) region!: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 20 }) postalCode!: string;
  @Column({ type: 'char', length: 2 }) country!: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) phone!: string | null;
  @Column({ name: 'is_default', type: 'boolean', width: 1, default: false }) isDefault!: boolean;
  @CreatedAtColumn()
  createdAt!: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt!: Date;
}

/** One row per customer with an address book: locked first by every change of the book (see the migration). */
@Entity('address_books')
export class AddressBookEntity {
  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @Column({ name: 'changed_at', type: 'datetime', precision: 3, default: () => 'CURRENT_TIMESTAMP(3)' })
  changedAt!: Date;
}
