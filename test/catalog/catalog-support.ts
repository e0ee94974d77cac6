import { randomBytes } from 'node:crypto';
import { TestApp, http } from '../support/test-app';

export const tag = () => randomBytes(4).toString('hex');

export async function createCategory(t: TestApp, token: string, name: string, parentId?: string) {
  const res = await http('POST', t.api('/categories'), {
    token,
    body: { name, slug: `${name}-${tag()}`.toLowerCase(), parentId },
  });
  if (res.status !== 201) throw new Error(`category: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string };
}

export async function createProduct(
  t: TestApp,
  token: string,
  body: {
    name: string;
    description?: string;
    brand?: string;
    categoryId?: string;
    price?: number;
    stock?: number;
  },
) {
  const sku = `SKU-${tag()}`.toUpperCase();
  const res = await http('POST', t.api('/products'), {
    token,
    body: {
      name: body.name,
      description: body.description,
      brand: body.brand,
      categoryId: body.categoryId,
      variants: [{ sku, price: body.price ?? 1000, currency: 'EUR', stockOnHand: body.stock ?? 10 }],
    },
  });
  if (res.status !== 201) throw new Error(`product: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, sku, body: res.body };
}
