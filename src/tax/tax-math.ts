/**
 * Tax arithmetic on integer minor units. One rule, per line: **round half up** (half a minor unit
 * goes up; amounts are never negative, so this is also "half away from zero"), applied once to
 * each line's tax — never to a unit price, never to the order's sum. The order's tax is the sum
 * of its lines' (already rounded) taxes, so the lines always add up to the total shown.
 *
 * Rates are basis points (1900 = 19 %). Products above 2^53 are computed with BigInt.
 */
export const BP = 10_000;

/** round(n / d) with halves going up, for n >= 0 and d > 0. */
export function divRoundHalfUp(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}

/**
 * The tax contained in or added to `amount` at `rateBp`:
 * - prices net of tax (`included = false`): tax = round(amount × rate);
 * - prices including tax (`included = true`): net = round(amount / (1 + rate)), tax = amount − net
 *   (so net + tax is exactly the price the customer saw).
 */
export function lineTax(amount: number, rateBp: number, included: boolean): number {
  if (!Number.isSafeInteger(amount) || amount < 0)
    throw new RangeError(`amount ${amount} is not a non-negative integer`);
  if (!Number.isInteger(rateBp) || rateBp < 0 || rateBp > BP)
    throw new RangeError(`rate ${rateBp} bp out of range`);
  if (rateBp === 0 || amount === 0) return 0;
  const a = BigInt(amount);
  const r = BigInt(rateBp);
  if (!included) return Number(divRoundHalfUp(a * r, BigInt(BP)));
  const net = divRoundHalfUp(a * BigInt(BP), BigInt(BP) + r);
  return Number(a - net);
}

/**
 * Splits `total` over `weights` in proportion, in integers that add up to `total` exactly
 * (largest remainder: each share is floored, the units left go to the largest remainders, ties
 * to the earlier entry). Used for a discount over lines and for a partial refund.
 */
export function allocate(total: number, weights: number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (total === 0 || sum === 0) return weights.map(() => 0);
  const T = BigInt(total);
  const S = BigInt(sum);
  const shares = weights.map((w) => (T * BigInt(w)) / S);
  const rema = weights.map((w, i) => ({ i, r: (T * BigInt(w)) % S }));
  let left = T - shares.reduce((s, x) => s + x, 0n);
  rema.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of rema) {
    if (left <= 0n) break;
    if (weights[i] === 0) continue;
    shares[i] += 1n;
    left -= 1n;
  }
  return shares.map(Number);
}
