import { Column } from 'typeorm';

/**
 * The timestamp columns every table declares the same way in its migration:
 * `created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)` and `updated_at` with
 * `ON UPDATE CURRENT_TIMESTAMP(3)` as well. Entities mirror them so `migration:generate` sees no
 * change. `managedByDb` leaves the value to the database (TypeORM never writes it); otherwise
 * the app may write it (e.g. an explicit created_at for ordering).
 */
export const CreatedAtColumn = (opts: { managedByDb?: boolean } = {}) =>
  Column({
    name: 'created_at',
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
    ...(opts.managedByDb ? { insert: false, update: false } : {}),
  });

export const UpdatedAtColumn = (opts: { managedByDb?: boolean } = {}) =>
  Column({
    name: 'updated_at',
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
    onUpdate: 'CURRENT_TIMESTAMP(3)',
    ...(opts.managedByDb ? { insert: false, update: false } : {}),
  });
