import { Column } from 'typeorm';

/** A `DATETIME(3)` column (millisecond precision, the only timestamp type the schema uses). */
export const DateTimeColumn = (name: string, opts: { nullable?: boolean } = {}) =>
  Column({ name, type: 'datetime', precision: 3, ...(opts.nullable ? { nullable: true } : {}) });

/**
 * The timestamp columns every table declares the same way in its migration:
 * `created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)` and `updated_at` with
 * `ON UPDATE CURRENT_TIMESTAMP(3)` as well. Entities mirror them so `migration:generate` sees no
 * change. `managedByDb` leaves the value to the database (TypeORM never writes it); otherwise
 * the app may write it (e.g. an explicit created_at for ordering).
 */
export const CreatedAtColumn = (opts: { managedByDb?: boolean } = {}) => defaultedNow('created_at', opts);

export const UpdatedAtColumn = (opts: { managedByDb?: boolean } = {}) =>
  defaultedNow('updated_at', opts, { onUpdate: 'CURRENT_TIMESTAMP(3)' });

function defaultedNow(name: string, opts: { managedByDb?: boolean }, extra: { onUpdate?: string } = {}) {
  return Column({
    name,
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
    ...extra,
    ...(opts.managedByDb ? { insert: false, update: false } : {}),
  });
}
