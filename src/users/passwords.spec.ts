import * as argon2 from 'argon2';
import { PASSWORD_HASH_OPTIONS, hashPassword, needsRehash, verifyPassword } from './passwords';

describe('passwords', () => {
  it('hashes with argon2id at the configured cost, and a fresh hash needs no rehash', async () => {
    const hash = await hashPassword('a-long-password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(needsRehash(hash)).toBe(false);
    expect(await verifyPassword(hash, 'a-long-password')).toBe(true);
    expect(await verifyPassword(hash, 'another-password')).toBe(false);
  });

  it('asks for a rehash of a hash made with other parameters or another algorithm', async () => {
    const heavier = await argon2.hash('pw-pw-pw-pw', { type: argon2.argon2id }); // argon2's defaults
    expect(needsRehash(heavier)).toBe(true);
    const argon2i = await argon2.hash('pw-pw-pw-pw', { ...PASSWORD_HASH_OPTIONS, type: argon2.argon2i });
    expect(needsRehash(argon2i)).toBe(true);
    // Old hashes still verify until the next login replaces them.
    expect(await verifyPassword(heavier, 'pw-pw-pw-pw')).toBe(true);
  });

  it('treats an unreadable stored hash as one to replace, and never verifies against it', async () => {
    expect(needsRehash('not-a-hash')).toBe(true);
    expect(await verifyPassword('not-a-hash', 'anything')).toBe(false);
    expect(await verifyPassword(undefined, 'anything')).toBe(false);
  });
});
