/** A UUID in its 8-4-4-4-12 hex form (any version; the app's own ids are UUIDv7, see ids.ts). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID, in either case (CHAR(36) columns compare case-insensitively). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/**
 * Whether `value` is a UUID as the app writes it (lower case). For ids that become cache keys:
 * an upper-case spelling would find the same row but fill a key no invalidation deletes.
 */
export function isCanonicalUuid(value: unknown): value is string {
  return isUuid(value) && value === value.toLowerCase();
}
