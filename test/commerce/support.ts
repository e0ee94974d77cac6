import { randomBytes } from 'node:crypto';
import { TestApp, http } from '../support/test-app';

export const tag = (p = 'T'): string => `${p}-${randomBytes(4).toString('hex').toUpperCase()}`;

/** The address every checkout test ships to (its country comes from the test). */
export const address = (country: string, extra: Record<string, unknown> = {}) => ({
  fullName: 'Erika Mustermann',
  line1: 'Heidestraße 17',
  city: 'Wien',
  postalCode: '1010',
  country,
  phone: '+43 1 234567',
  ...extra,
});

async function ok<T = any>(
  p: Promise<{ status: number; body: any }>,
  want: number,
  what: string,
): Promise<T> {
  const res = await p;
  if (res.status !== want) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

export const createCategory = (t: TestApp, admin: string, name = tag('cat')) =>
  ok<{ id: string }>(
    http('POST', t.api('/categories'), { token: admin, body: { name, slug: name.toLowerCase() } }),
    201,
    'create category',
  );

/** A product with one variant (and stock), optionally in a category; returns its SKU and id. */
export async function createSkuIn(
  t: TestApp,
  admin: string,
  opts: { price: number; stock?: number; categoryId?: string; currency?: string },
): Promise<{ sku: string; productId: string }> {
  const sku = tag('CO');
  const body = await ok<{ id: string }>(
    http('POST', t.api('/products'), {
      token: admin,
      body: {
        name: `Checkout ${sku}`,
        ...(opts.categoryId ? { categoryId: opts.categoryId } : {}),
        variants: [
          { sku, price: opts.price, currency: opts.currency ?? 'EUR', stockOnHand: opts.stock ?? 1000 },
        ],
      },
    }),
    201,
    'create product',
  );
  return { sku, productId: body.id };
}

export const createShipping = (t: TestApp, admin: string, body: Record<string, unknown>) =>
  ok<{ id: string; code: string }>(
    http('POST', t.api('/admin/shipping-methods'), { token: admin, body }),
    201,
    'create shipping method',
  );

export const createTaxRate = (t: TestApp, admin: string, body: Record<string, unknown>) =>
  ok<{ id: string }>(http('POST', t.api('/admin/tax-rates'), { token: admin, body }), 201, 'create tax rate');

export const createCoupon = (t: TestApp, admin: string, body: Record<string, unknown>) =>
  ok<{ id: string; code: string }>(
    http('POST', t.api('/admin/coupons'), { token: admin, body }),
    201,
    'create coupon',
  );

export const couponUsed = async (t: TestApp, admin: string, id: string): Promise<number> =>
  (
    await ok<{ used: number }>(
      http('GET', t.api(`/admin/coupons/${id}`), { token: admin }),
      200,
      'get coupon',
    )
  ).used;

export const addToCart = (t: TestApp, token: string, sku: string, quantity: number) =>
  ok(http('POST', t.api('/cart/items'), { token, body: { sku, quantity } }), 200, 'add to cart');

export const createAddress = (t: TestApp, token: string, body: Record<string, unknown>) =>
  ok<{ id: string }>(http('POST', t.api('/addresses'), { token, body }), 201, 'create address');
