import * as argon2 from 'argon2';

/**
 * argon2id with the OWASP baseline (19 MiB, t=2, p=1): strong enough, and cheap enough in
 * memory that a burst of registrations or logins cannot exhaust an instance.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PASSWORD_HASH_OPTIONS);
}

let dummy: Promise<string> | undefined;

/** Verifies; with no stored hash it still spends the same time, so unknown emails are not revealed by timing. */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummy ??= argon2.hash('timing-equaliser-password', PASSWORD_HASH_OPTIONS);
    await argon2.verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * Whether a stored hash was made with other parameters than today's (another algorithm, cost or
 * an older argon2 version): the login that just verified it replaces it, so a change of
 * {@link PASSWORD_HASH_OPTIONS} reaches every active account without a reset.
 */
export function needsRehash(hash: string): boolean {
  // argon2's own check compares version and costs only, not the variant.
  if (!hash.startsWith('$argon2id$')) return true;
  try {
    return argon2.needsRehash(hash, PASSWORD_HASH_OPTIONS);
  } catch {
    return true;
  }
}
