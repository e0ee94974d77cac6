import { createHmac } from 'node:crypto';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Hand-made JWTs for negative tests (expired, tampered, `alg: none`). */
export function signJwt(header: object, payload: object, secret?: string): string {
  const head = `${b64(header)}.${b64(payload)}`;
  const sig = secret ? createHmac('sha256', secret).update(head).digest('base64url') : '';
  return `${head}.${sig}`;
}

export function decodeJwt(token: string): { header: any; payload: any } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}
