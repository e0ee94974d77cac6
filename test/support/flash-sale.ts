import { TestApp, http } from './test-app';

export interface SaleFields {
  sku: string;
  price: number;
  quantity: number;
  perUserLimit: number;
  startsAt: string;
  endsAt: string;
}

/**
 * Creates a flash sale as `admin` (POST /flash-sales) and returns its id; throws with the answer
 * when it is not a 201. By default the sale is open now for ten minutes, 10 units at 199.00, one
 * per user.
 */
export async function openFlashSale(
  t: TestApp,
  admin: string,
  fields: Partial<SaleFields> & { sku: string },
): Promise<string> {
  const res = await http('POST', t.api('/flash-sales'), {
    token: admin,
    body: {
      price: 19900,
      quantity: 10,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      ...fields,
    },
  });
  if (res.status !== 201) throw new Error(`create sale: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
