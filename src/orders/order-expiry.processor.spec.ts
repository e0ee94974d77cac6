import type { WorkerRegistry } from '../infra/queue/worker-registry.service';
import type { IdempotencyStore } from './idempotency.store';
import { OrderExpiryProcessor } from './order-expiry.processor';
import type { OrdersService } from './orders.service';

/** A stub of the orders service over an in-memory list of pending orders, oldest first. */
function ordersOver(pending: string[], poison: Set<string>) {
  const expired: string[] = [];
  const stub = {
    overdue: async (limit: number) => pending.slice(0, limit),
    expire: async (id: string) => {
      if (poison.has(id)) throw new Error(`deadlock on ${id}`);
      const i = pending.indexOf(id);
      if (i < 0) return false;
      pending.splice(i, 1);
      expired.push(id);
      return true;
    },
  };
  return { stub: stub as unknown as OrdersService, expired };
}

describe('OrderExpiryProcessor.expireDue', () => {
  const make = (orders: OrdersService) =>
    new OrderExpiryProcessor({} as WorkerRegistry, orders, {} as IdempotencyStore);

  it('expires every overdue order, past a batch, each once', async () => {
    const pending = Array.from({ length: 1234 }, (_, i) => `o${i}`);
    const { stub, expired } = ordersOver(pending, new Set());
    expect(await make(stub).expireDue()).toBe(1234);
    expect(new Set(expired).size).toBe(1234);
    expect(pending).toEqual([]);
  });

  it('an order whose expiry fails is left for the next run and does not hold up the ones behind it', async () => {
    const pending = Array.from({ length: 1200 }, (_, i) => `o${i}`);
    const poison = new Set(['o0', 'o1', 'o505']);
    const { stub } = ordersOver(pending, poison);
    const p = make(stub);
    const warn = jest.spyOn((p as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn');
    warn.mockImplementation(() => undefined);
    expect(await p.expireDue()).toBe(1197);
    expect(pending).toEqual(['o0', 'o1', 'o505']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('3 overdue order(s) could not be expired'));
    expect(warn.mock.calls[0][0]).toContain('o0: deadlock on o0');
    // The next run tries them again.
    poison.clear();
    expect(await p.expireDue()).toBe(3);
    expect(pending).toEqual([]);
  });
});
