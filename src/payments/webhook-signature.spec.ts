import { signWebhook, verifyWebhookSignature } from './webhook-signature';

const secret = 'test-secret-0123456789';
const body = Buffer.from('{"id":"evt_1","type":"payment.succeeded"}');
const now = 1_800_000_000;

describe('webhook signature', () => {
  it('accepts the exact body signed with the secret within the tolerance', () => {
    expect(() =>
      verifyWebhookSignature(secret, signWebhook(secret, body, now - 299), body, now),
    ).not.toThrow();
  });

  it('refuses a tampered body, a wrong secret, a missing or malformed header', () => {
    const header = signWebhook(secret, body, now);
    const tampered = Buffer.from(body.toString().replace('succeeded', 'failed'));
    expect(() => verifyWebhookSignature(secret, header, tampered, now)).toThrow(
      expect.objectContaining({ code: 'INVALID_SIGNATURE' }),
    );
    expect(() =>
      verifyWebhookSignature(secret, signWebhook('other-secret-000000', body, now), body, now),
    ).toThrow(expect.objectContaining({ code: 'INVALID_SIGNATURE' }));
    for (const bad of [undefined, '', 't=1', `v1=${'a'.repeat(64)}`, 'garbage', `t=${now},v1=zz`])
      expect(() => verifyWebhookSignature(secret, bad, body, now)).toThrow(
        expect.objectContaining({ code: 'INVALID_SIGNATURE' }),
      );
  });

  it('refuses a correctly signed event older or newer than 5 minutes', () => {
    expect(() => verifyWebhookSignature(secret, signWebhook(secret, body, now - 3600), body, now)).toThrow(
      expect.objectContaining({ code: 'STALE_WEBHOOK', kind: 'invalid' }),
    );
    expect(() => verifyWebhookSignature(secret, signWebhook(secret, body, now + 301), body, now)).toThrow(
      expect.objectContaining({ code: 'STALE_WEBHOOK' }),
    );
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const good = signWebhook(secret, body, now).split('v1=')[1];
    expect(() =>
      verifyWebhookSignature(secret, `t=${now},v1=${'0'.repeat(64)},v1=${good}`, body, now),
    ).not.toThrow();
  });
});
