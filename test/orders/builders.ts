import { randomBytes } from 'node:crypto';
import { TestApp, http } from '../support/test-app';

export const uniqueSku = (tag = 'SKU'): string => `${tag}-${randomBytes(4).toString('hex').toUpperCase()}`;

/** Creates a product through the admin API with the given variants (and their initial stock). */
export async function createProduct(
  t: TestApp,
  adminToken: string,
  variants: { sku: string; price: number; currency?: string; stockOnHand?: number }[],
): Promise<string> {
  const res = await http('POST', t.api('/products'), {
    token: adminToken,
    body: {
      name: `Product ${variants[0].sku}`,
      variants: variants.map((v) => ({ currency: 'EUR', stockOnHand: 0, ...v })),
    },
  });
  if (res.status !== 201) throw new Error(`create product failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function stockOf(t: TestApp, adminToken: string, sku: string) {
  const res = await http('GET', t.api(`/inventory/${sku}`), { token: adminToken });
  if (res.status !== 200) throw new Error(`inventory failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { onHand: number; reserved: number; available: number };
}

export const placeOrder = (
  t: TestApp,
  token: string,
  items: { sku: string; quantity: number }[],
  idempotencyKey?: string,
) =>
  http('POST', t.api('/orders'), {
    token,
    body: { items },
    headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined,
  });
