import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';
import type { AfterCommitHooks } from '../../infra/database/after-commit';

/**
 * Per-request (or per-job) state carried through async calls without threading arguments:
 * the request id for logs and error bodies, the caller, whether this unit of work already
 * wrote to the primary (read-your-writes), and the open transaction, if any.
 */
export interface RequestContext {
  requestId: string;
  userId?: string;
  role?: string;
  /** Set once this unit of work wrote to the primary: later reads in it go to the primary too. */
  wrotePrimary?: boolean;
  /** The EntityManager of the transaction in progress (see DbRouter.transaction). */
  tx?: EntityManager;
  /** The hooks the transaction in progress runs after its COMMIT (see DbRouter.afterCommit). */
  afterCommit?: AfterCommitHooks;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  run<T>(ctx: RequestContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  get(): RequestContext | undefined {
    return storage.getStore();
  },
  requestId(): string | undefined {
    return storage.getStore()?.requestId;
  },
};
