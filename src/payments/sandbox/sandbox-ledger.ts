import { Injectable } from '@nestjs/common';
import { RedisService } from '../../infra/redis/redis.service';
import type { ProviderPayment } from '../payment-provider';

/**
 * The sandbox PSP's own books, kept in Redis apart from our database, as a real PSP's are: one
 * hash per payment intent (amount, currency, status, refunded) and one per refund idempotency
 * key. Each operation is one Lua script, so concurrent calls see a consistent intent: a captured
 * intent cannot be cancelled or captured again, refunds never exceed the capture, and a refund
 * retried with the same key is answered from the books instead of paying twice.
 *
 * Statuses: `requires_confirmation` (opened), `requires_payment_method` (the last card was
 * declined; another may still succeed), `succeeded` (captured), `canceled`.
 *
 * Faults can be injected (non-production) so the shop's retry paths can be exercised: the next N
 * calls of an operation fail before the PSP does anything, like a 503 from a real one;
 * `refund-declined` makes the next N new refunds a definite refusal instead (a real PSP refuses
 * e.g. the refund of a disputed charge).
 */
const CREATE = `
local fault = tonumber(redis.call('GET', KEYS[2]) or '0')
if fault > 0 then redis.call('DECR', KEYS[2]) return 'unavailable' end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'amount', ARGV[1], 'currency', ARGV[2], 'order', ARGV[3],
    'status', 'requires_confirmation', 'refunded', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 'ok'`;

const CONFIRM = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return 'unknown' end
if s == 'succeeded' then return 'already_captured' end
if s == 'canceled' then return 'canceled' end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'ok'`;

const CANCEL = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return 'unknown' end
if s == 'succeeded' then return 'captured' end
redis.call('HSET', KEYS[1], 'status', 'canceled')
return 'canceled'`;

const REFUND = `
local fault = tonumber(redis.call('GET', KEYS[3]) or '0')
if fault > 0 then redis.call('DECR', KEYS[3]) return 'unavailable' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'ok' end
local refuse = tonumber(redis.call('GET', KEYS[4]) or '0')
if refuse > 0 then redis.call('DECR', KEYS[4]) return 'refused' end
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return 'unknown_payment' end
if s ~= 'succeeded' then return 'not_captured' end
local amount = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'refunded')) + amount > tonumber(redis.call('HGET', KEYS[1], 'amount')) then
  return 'exceeds_captured'
end
redis.call('HINCRBY', KEYS[1], 'refunded', amount)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], 'amount', amount)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 'ok'`;

/** How long the sandbox remembers an intent (from its last change) or a refund. */
const RETENTION_MS = 180 * 24 * 3600 * 1000;

export type SandboxFault = 'create' | 'refund' | 'refund-declined';
export type ConfirmResult = 'ok' | 'unknown' | 'already_captured' | 'canceled';
export type RefundResult =
  'ok' | 'unavailable' | 'refused' | 'unknown_payment' | 'not_captured' | 'exceeds_captured';

@Injectable()
export class SandboxLedger {
  constructor(private readonly redis: RedisService) {}

  /** The sandbox's keys share one tag on a Redis Cluster: its scripts read a fault flag with an intent. */
  private pi(paymentId: string): string {
    return this.redis.key(this.redis.clusterTag('sandbox'), 'pi', paymentId);
  }

  private fault(op: SandboxFault): string {
    return this.redis.key(this.redis.clusterTag('sandbox'), 'fault', op);
  }

  async create(
    paymentId: string,
    orderId: string,
    amount: number,
    currency: string,
  ): Promise<'ok' | 'unavailable'> {
    return (await this.redis.client.eval(
      CREATE,
      2,
      this.pi(paymentId),
      this.fault('create'),
      amount,
      currency,
      orderId,
      RETENTION_MS,
    )) as 'ok' | 'unavailable';
  }

  /** The card's outcome is recorded now; the webhook that reports it follows. */
  async confirm(paymentId: string, captured: boolean): Promise<ConfirmResult> {
    return (await this.redis.client.eval(
      CONFIRM,
      1,
      this.pi(paymentId),
      captured ? 'succeeded' : 'requires_payment_method',
      RETENTION_MS,
    )) as ConfirmResult;
  }

  async cancel(paymentId: string): Promise<'unknown' | 'captured' | 'canceled'> {
    return (await this.redis.client.eval(CANCEL, 1, this.pi(paymentId))) as
      'unknown' | 'captured' | 'canceled';
  }

  async refund(paymentId: string, idempotencyKey: string, amount: number): Promise<RefundResult> {
    return (await this.redis.client.eval(
      REFUND,
      4,
      this.pi(paymentId),
      this.redis.key(this.redis.clusterTag('sandbox'), 're', idempotencyKey),
      this.fault('refund'),
      this.fault('refund-declined'),
      amount,
      RETENTION_MS,
    )) as RefundResult;
  }

  async retrieve(paymentId: string): Promise<ProviderPayment | null> {
    const h = await this.redis.client.hgetall(this.pi(paymentId));
    if (!h.status) return null;
    const status =
      h.status === 'succeeded'
        ? 'succeeded'
        : h.status === 'canceled'
          ? 'canceled'
          : h.status === 'requires_payment_method'
            ? 'failed'
            : 'pending';
    return { status, amount: Number(h.amount), currency: h.currency };
  }

  /** The next `times` calls of `op` fail before the sandbox does anything (tests, demos). */
  async injectFault(op: SandboxFault, times: number): Promise<void> {
    await this.redis.client.set(this.fault(op), times, 'PX', 600_000);
  }
}
