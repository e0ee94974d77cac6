import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../common/errors/domain-error';

/** Webhooks older (or further in the future) than this are refused: replays of captured requests. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export class InvalidSignatureError extends DomainError {
  constructor(message = 'The webhook signature is missing or does not match') {
    super('invalid', 'INVALID_SIGNATURE', message);
  }
}

export class StaleWebhookError extends DomainError {
  constructor() {
    super(
      'invalid',
      'STALE_WEBHOOK',
      `The webhook timestamp is outside the ${WEBHOOK_TOLERANCE_SECONDS} s tolerance`,
    );
  }
}

/** `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the contract's X-Signature header. */
export function signWebhook(secret: string, rawBody: Buffer | string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Verifies an X-Signature header against the exact bytes received. Several `v1` values are
 * accepted (secret rotation: the sender signs with old and new); the compare is constant-time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | string[] | undefined,
  rawBody: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): void {
  if (typeof header !== 'string' || !header) throw new InvalidSignatureError();
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && /^\d{1,12}$/.test(v ?? '')) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v ?? '')) candidates.push(v.toLowerCase());
  }
  if (t === undefined || !candidates.length) throw new InvalidSignatureError();
  const expected = Buffer.from(signWebhook(secret, rawBody, t).split('v1=')[1], 'hex');
  const ok = candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
  if (!ok) throw new InvalidSignatureError();
  // Checked after the MAC so an attacker learns nothing about the clock from an unsigned probe.
  if (Math.abs(nowSeconds - t) > WEBHOOK_TOLERANCE_SECONDS) throw new StaleWebhookError();
}
