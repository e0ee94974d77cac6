import type { DbRouter } from '../../src/infra/database/db-router.service';

/**
 * Stubs for unit specs of services, in the style of immich's `automock`: a service is built with
 * a typed stub per repository (and port), every method a jest.fn that fails the test unless the
 * test says what it answers. So a spec states exactly the reads and writes its rule needs.
 */
export function automock<T extends object>(cls: abstract new (...args: never[]) => T): jest.Mocked<T> {
  const stub: Record<string, jest.Mock> = {};
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name in stub) continue;
      if (typeof Object.getOwnPropertyDescriptor(proto, name)?.value !== 'function') continue;
      stub[name] = jest.fn((..._args: unknown[]) => {
        throw new Error(`${cls.name}.${name} was called but not stubbed`);
      });
    }
  return stub as unknown as jest.Mocked<T>;
}

/**
 * DbRouter's write API as services see it (decision 0013): `transaction(fn)` runs `fn` (a nested
 * call joins the outer one); once it resolved, `events` gets 'commit' and the hooks registered
 * with `afterCommit` run in order, a failing one logged as 'hook failed', never the caller's
 * error. After a rejection no hook runs.
 */
export function transactionStub(): { db: jest.Mocked<DbRouter>; events: string[] } {
  const events: string[] = [];
  let open: (() => unknown)[] | undefined;
  const db = {
    transaction: jest.fn(async (fn: (em: never) => Promise<unknown>) => {
      if (open) return fn(undefined as never);
      const hooks: (() => unknown)[] = (open = []);
      let result: unknown;
      try {
        result = await fn(undefined as never);
      } finally {
        open = undefined;
      }
      events.push('commit');
      for (const hook of hooks)
        await Promise.resolve()
          .then(hook)
          .catch(() => events.push('hook failed'));
      return result;
    }),
    afterCommit: jest.fn((hook: () => unknown) => {
      if (!open) throw new Error('afterCommit outside a transaction');
      open.push(hook);
    }),
  };
  return { db: db as unknown as jest.Mocked<DbRouter>, events };
}
