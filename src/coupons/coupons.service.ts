import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { isCurrencyCode } from '../common/countries';
import { ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { SKU_PATTERN } from '../common/order-size';
import { isUuid } from '../common/uuid';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import { Statement } from '../infra/database/write-batch';
import { discountFor } from './coupon-rules';
import type { CouponDiscount, CouponInput, CouponLine, CouponView } from './coupon.types';
import {
  CouponExhaustedError,
  CouponLimitReachedError,
  CouponNotApplicableError,
  CouponNotFoundError,
} from './coupons.errors';
import { CouponsRepository, RedemptionRow } from './coupons.repository';

/** Definitions are cached briefly (edits broadcast at once); the usage counters never are. */
const TTL = { l1Ms: 2000, l2Ms: 10_000, negativeMs: 1000 };
const CODE = /^[A-Za-z0-9_-]{3,64}$/;
export const MAX_RESTRICTIONS = 100;

export const normalizeCode = (code: string): string => code.trim().toUpperCase();

/**
 * Coupons: admin-managed definitions, the discount they give (coupon-rules.ts), and their
 * redemption as statements of the order's WriteBatch, so the usage limit and the per-customer
 * limit are decided by MySQL in the order's own transaction (decision 0022).
 */
@Injectable()
export class CouponsService {
  constructor(
    private readonly repo: CouponsRepository,
    private readonly cache: TwoLevelCache,
  ) {}

  private async definition(code: string): Promise<CouponView | undefined> {
    const json = await this.cache.get(`coupon:${code}`, TTL, ({ read }) =>
      read((em) => this.repo.findByCode(code, em)),
    );
    return json ? (JSON.parse(json) as CouponView) : undefined;
  }

  /**
   * What `code` takes off these lines for `userId` (throws COUPON_NOT_FOUND, _NOT_APPLICABLE,
   * _EXHAUSTED or _LIMIT_REACHED). With `checkCounters` (quotes) the usage counters are read on
   * the primary for an early answer; an order skips those reads, since its redemption
   * statements decide either way.
   */
  async discount(
    rawCode: string,
    userId: string,
    lines: CouponLine[],
    currency: string,
    opts: { checkCounters: boolean; now?: Date },
  ): Promise<CouponDiscount> {
    const now = opts.now ?? new Date();
    const code = normalizeCode(rawCode);
    if (!CODE.test(code)) throw new CouponNotFoundError(rawCode.slice(0, 64));
    const cached = await this.definition(code);
    if (!cached) throw new CouponNotFoundError(code);
    const coupon = opts.checkCounters
      ? ((await this.repo.findByCodeFresh(code)) ?? cached)
      : { ...cached, used: 0 };
    const { discount, perLine } = discountFor(coupon, lines, currency, now);
    if (opts.checkCounters && coupon.perCustomerLimit !== null) {
      const uses = await this.repo.customerUses(coupon.id, userId);
      if (uses >= coupon.perCustomerLimit) throw new CouponLimitReachedError(code, coupon.perCustomerLimit);
    }
    return { couponId: coupon.id, code, discount, perLine, perCustomerLimit: coupon.perCustomerLimit };
  }

  /** The redemption for the order's batch (see CouponsRepository.redeemStatements). */
  redeemStatements(d: CouponDiscount, orderId: string, userId: string, now = new Date()): Statement[] {
    return this.repo.redeemStatements(
      {
        couponId: d.couponId,
        orderId,
        userId,
        discount: d.discount,
        perCustomerLimit: d.perCustomerLimit,
        now,
      },
      async (kind, read) => {
        if (kind === 'customer_limit') return new CouponLimitReachedError(d.code, d.perCustomerLimit);
        // The counter did not move: used up, or deactivated / ended since the quote.
        const c = await this.repo.standing(read, d.couponId);
        if (!c?.active) return new CouponNotApplicableError(d.code, 'it is not active');
        if (c.endsAt && c.endsAt <= now) return new CouponNotApplicableError(d.code, 'it has ended');
        return new CouponExhaustedError(d.code);
      },
    );
  }

  /** In the transaction of an order's cancel/expiry: the order's use comes back, once. */
  giveBack(em: EntityManager, orderId: string): Promise<RedemptionRow | undefined> {
    return this.repo.giveBack(em, orderId, new Date());
  }

  redemptionOf(orderId: string): Promise<RedemptionRow | undefined> {
    return this.repo.redemptionOf(orderId);
  }

  // ---- admin ----------------------------------------------------------------------------------

  async get(id: string): Promise<CouponView> {
    const found = isUuid(id) ? await this.repo.findById(id) : undefined;
    if (!found) throw new CouponNotFoundError(id);
    return found;
  }

  async list(limit = 50, cursor?: string): Promise<{ items: CouponView[]; nextCursor: string | null }> {
    if (cursor !== undefined && !isUuid(cursor))
      throw new ValidationFailedError('cursor: not a cursor returned by this API');
    const n = Math.min(Math.max(Math.trunc(limit), 1), 100);
    const rows = await this.repo.list(n + 1, cursor);
    const items = rows.slice(0, n);
    return { items, nextCursor: rows.length > n ? items[items.length - 1].id : null };
  }

  async create(input: CouponInput): Promise<CouponView> {
    const c = checkInput(input);
    const id = newId();
    await this.repo.insert(id, c);
    await this.cache.afterWrite({ keys: [`coupon:${c.code}`] });
    return (await this.repo.findById(id))!;
  }

  async update(id: string, patch: Partial<CouponInput>): Promise<CouponView> {
    const current = await this.get(id);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const c = checkInput({ ...current, ...defined });
    await this.repo.update(id, c);
    await this.cache.afterWrite({ keys: [`coupon:${current.code}`, `coupon:${c.code}`] });
    return (await this.repo.findById(id))!;
  }

  /** Deactivates (redemptions and counters stay: a cancelled order still gives its use back). */
  async deactivate(id: string): Promise<void> {
    await this.update(id, { active: false });
  }
}

function checkInput(i: CouponInput): Required<CouponInput> {
  const problems: string[] = [];
  const code = typeof i.code === 'string' ? normalizeCode(i.code) : '';
  if (!CODE.test(code)) problems.push('code: 3-64 of A-Z 0-9 _ - (stored upper-case)');
  if (i.kind !== 'percentage' && i.kind !== 'fixed') problems.push('kind: percentage or fixed');
  const percentOff = i.kind === 'percentage' ? (i.percentOff ?? null) : null;
  const amountOff = i.kind === 'fixed' ? (i.amountOff ?? null) : null;
  if (i.kind === 'percentage' && (!Number.isInteger(percentOff) || percentOff! < 1 || percentOff! > 100))
    problems.push('percentOff: an integer from 1 to 100 for a percentage coupon');
  if (i.kind === 'fixed' && (!Number.isSafeInteger(amountOff) || amountOff! < 1 || amountOff! > 2 ** 42))
    problems.push('amountOff: a positive integer (minor units) for a fixed coupon');
  const currency = i.currency ?? null;
  if (currency !== null && !isCurrencyCode(currency)) problems.push('currency: an ISO 4217 code');
  const minSubtotal = i.minSubtotal ?? 0;
  if (!Number.isSafeInteger(minSubtotal) || minSubtotal < 0 || minSubtotal > 2 ** 42)
    problems.push('minSubtotal: a non-negative integer (minor units)');
  if ((i.kind === 'fixed' || minSubtotal > 0) && currency === null)
    problems.push('currency: required for a fixed amount or a minimum subtotal');
  const startsAt = i.startsAt ?? new Date().toISOString();
  const endsAt = i.endsAt ?? null;
  if (Number.isNaN(Date.parse(startsAt))) problems.push('startsAt: an ISO 8601 time');
  if (endsAt !== null && (Number.isNaN(Date.parse(endsAt)) || Date.parse(endsAt) <= Date.parse(startsAt)))
    problems.push('endsAt: an ISO 8601 time after startsAt, or null');
  const limit = (name: string, v: number | null | undefined) => {
    if (v !== null && v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1_000_000_000))
      problems.push(`${name}: an integer from 1 to 1000000000, or null for unlimited`);
    return v ?? null;
  };
  const usageLimit = limit('usageLimit', i.usageLimit);
  const perCustomerLimit = limit('perCustomerLimit', i.perCustomerLimit);
  const list = (name: string, v: string[] | null | undefined, ok: (s: string) => boolean) => {
    if (v === null || v === undefined || v.length === 0) return null;
    if (!Array.isArray(v) || v.length > MAX_RESTRICTIONS || !v.every((s) => typeof s === 'string' && ok(s)))
      problems.push(`${name}: at most ${MAX_RESTRICTIONS} valid entries, or null`);
    return [...new Set(v)];
  };
  const skus = list('skus', i.skus, (s) => SKU_PATTERN.test(s));
  const categoryIds = list('categoryIds', i.categoryIds, isUuid)?.map((s) => s.toLowerCase()) ?? null;
  if (problems.length) throw new ValidationFailedError(problems[0], problems);
  return {
    code,
    kind: i.kind,
    percentOff,
    amountOff,
    currency,
    minSubtotal,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: endsAt && new Date(endsAt).toISOString(),
    usageLimit,
    perCustomerLimit,
    skus,
    categoryIds,
    active: i.active ?? true,
  };
}
