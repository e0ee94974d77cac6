import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { RequestContext, requestContext } from '../../common/context/request-context';
import { isUnavailableError } from '../../common/errors/error-mapping';
import { AppConfig } from '../config/app-config';
import { AfterCommitHook, AfterCommitHooks, AfterCommitOptions, runAfterCommit } from './after-commit';
import { RecentWriters } from './recent-writers';
import { Querier, WriteBatch, WriteResult } from './write-batch';
import { PoolUsage, ReplicaNode, ReplicaStatus, poolUsage } from './replica-pool';
import { mysqlOptions } from './typeorm-options';
import { boundPoolAcquire } from './pool-acquire';
import { RawConnection, isTimeout, rawQuery } from './raw-query';

const RETRYABLE_TX_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
/** How long shutdown waits for after-commit hooks still running (then logs what it leaves). */
const HOOK_DRAIN_MS = 5000;

export interface TransactionOptions {
  /**
   * READ COMMITTED unless given. `'server'` keeps the session's level (the server default,
   * REPEATABLE READ on MySQL/MariaDB) and saves the `SET TRANSACTION` round trip: for hot
   * write-only transactions whose statements are primary-key lookups and inserts, where both
   * levels lock the same rows.
   */
  isolation?: IsolationLevel | 'server';
  /** Extra attempts after a deadlock or lock-wait timeout (the whole callback is re-run). */
  retries?: number;
}

/**
 * The one place that decides where a statement runs.
 * - Writes and transactions: the primary.
 * - Plain reads: a healthy replica (round robin), except inside a transaction, in a unit of
 *   work that already wrote, or for a user who wrote within READ_YOUR_WRITES_MS — those read
 *   the primary. A replica that is down or lagging past DB_REPLICA_MAX_LAG_SECONDS is out of
 *   rotation until the monitor sees it healthy again; with none healthy, reads use the primary.
 *
 * One write API (decision 0013): `transaction(fn)` — nested calls join the outermost one — and,
 * for the batched hot path, `commitBatch(WriteBatch)`. Work that must wait for the COMMIT
 * registers `afterCommit(fn)` (or `batch.afterCommit(fn)`): it runs once, after the outermost
 * commit, never after a rollback. The primary DataSource itself stays private; single statements
 * outside a transaction go through `execute` (writes) and `primaryReader()` (fresh reads).
 */
@Injectable()
export class DbRouter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('DbRouter');
  readonly replicas: ReplicaNode[];
  private rr = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<unknown>;
  /**
   * Primary connections whose session has the batches' innodb_lock_wait_timeout (commitBatch
   * sets it with the first batch a connection carries; mysql2's pool hands out the same
   * connection objects again, and a replaced connection is a new object).
   */
  private readonly lockWaitSet = new WeakSet<object>();
  /** After-commit hooks that returned a promise and have not settled yet (awaited on shutdown). */
  private readonly runningHooks = new Set<Promise<unknown>>();

  constructor(
    @InjectDataSource() private readonly primary: DataSource,
    private readonly config: AppConfig,
    private readonly recentWriters: RecentWriters,
  ) {
    this.replicas = config.db.replicas.map(
      (target, i) =>
        new ReplicaNode(
          `replica-${i + 1}`,
          target,
          () => ({
            ...mysqlOptions(target, config.db.poolSize, config.db.queryTimeoutMs),
            name: `replica-${i + 1}`,
            entities: primary.entityMetadatas.map((m) => m.target),
          }),
          config.db.replicaMaxLagSeconds,
          this.logger,
          config.db.acquireTimeoutMs,
        ),
    );
    boundPoolAcquire(primary, config.db.acquireTimeoutMs, 'primary');
  }

  async onModuleInit(): Promise<void> {
    await this.warnUnlessUtc();
    await this.checkReplicas();
    // Fire and forget: each replica's check() catches its errors (the replica is marked down).
    this.timer = setInterval(() => void this.checkReplicas(), this.config.db.replicaCheckIntervalMs);
    this.timer.unref();
  }

  /**
   * The app reads and writes DATETIMEs as UTC (mysql2 `timezone: 'Z'`); values the server makes
   * itself (CURRENT_TIMESTAMP defaults, NOW() in conditions) are in the session's time zone. A
   * server not on UTC (deploy/mysql/*.cnf sets `default_time_zone = '+00:00'`) shifts those by
   * its offset: said once at boot, loudly, rather than found in the data later.
   */
  private async warnUnlessUtc(): Promise<void> {
    try {
      const [row] = (await this.primary.query(
        'SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offset_minutes, @@session.time_zone AS tz',
      )) as { offset_minutes: number | string; tz: string }[];
      if (Number(row.offset_minutes) !== 0)
        this.logger.warn(
          `the primary's time zone is ${row.tz} (UTC${Number(row.offset_minutes) >= 0 ? '+' : ''}${Number(row.offset_minutes)} min): ` +
            `set default_time_zone = '+00:00' (see deploy/mysql/primary.cnf), or server-made timestamps ` +
            'will be shifted by that offset',
        );
    } catch (err) {
      this.logger.warn(`time zone of the primary not checked: ${(err as Error).message}`);
    }
  }

  /** Runs every replica check once (concurrent callers share the run). */
  checkReplicas(): Promise<unknown> {
    this.checking ??= Promise.all(this.replicas.map((r) => r.check())).finally(
      () => (this.checking = undefined),
    );
    return this.checking;
  }

  replicaStatuses(): ReplicaStatus[] {
    return this.replicas.map((r) => r.status);
  }

  /** Pool usage of the primary and of each replica whose DataSource is open (read on scrape). */
  poolUsage(): PoolUsage[] {
    return [
      poolUsage('primary', this.primary),
      ...this.replicas.map((r) => poolUsage(r.name, r.dataSource)),
    ].filter((u): u is PoolUsage => !!u);
  }

  /** The EntityManager plain reads should use now (see class comment). */
  reader(): EntityManager {
    const ctx = requestContext.get();
    if (ctx?.tx) return ctx.tx;
    if (ctx?.wrotePrimary || this.recentWriters.isRecent(ctx?.userId)) return this.primary.manager;
    return this.pickReplica()?.manager ?? this.primary.manager;
  }

  /**
   * Runs a read on the chosen reader; if a replica fails with a connection error, it is taken
   * out of rotation and the read is retried once on the primary.
   */
  async read<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const em = this.reader();
    try {
      return await fn(em);
    } catch (err) {
      const node = this.replicas.find((r) => r.dataSource?.manager === em);
      if (!node || !isUnavailableError(err)) throw err;
      node.markDown((err as Error).message);
      return fn(this.primary.manager);
    }
  }

  /** Reads that must see the latest committed state (e.g. right before a decision). */
  primaryReader(): EntityManager {
    return requestContext.get()?.tx ?? this.primary.manager;
  }

  /**
   * One write statement on the primary (in the open transaction, if any); marks the unit of
   * work as a writer. Answers what mysql2 answers (a WriteResult for INSERT/UPDATE/DELETE).
   */
  async execute<T = WriteResult>(sql: string, params?: unknown[]): Promise<T> {
    const ctx = requestContext.get();
    if (ctx) ctx.wrotePrimary = true;
    return (await (ctx?.tx ?? this.primary.manager).query(sql, params)) as T;
  }

  /** One round trip to the primary (readiness); rejects when it does not answer. */
  async ping(): Promise<void> {
    await this.primary.query('SELECT 1');
  }

  readRepo<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    return this.reader().getRepository(entity);
  }

  /** A repository on the primary (or on the open transaction). Marks the unit of work as a writer. */
  writeRepo<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    const ctx = requestContext.get();
    if (ctx) ctx.wrotePrimary = true;
    return (ctx?.tx ?? this.primary.manager).getRepository(entity);
  }

  /**
   * Runs `fn` in a primary transaction (READ COMMITTED by default). Nested calls join the
   * outer transaction. Deadlocks and lock-wait timeouts re-run the whole callback, up to
   * `retries` times with jittered backoff, so callbacks must not have side effects outside
   * the database: they register them with {@link afterCommit} (or enqueue through the outbox).
   * The outermost call returns once its COMMIT is done and its after-commit hooks have run.
   */
  async transaction<T>(fn: (em: EntityManager) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const outer = requestContext.get();
    if (outer?.tx) return fn(outer.tx);
    const { result, hooks } = await this.withRetries(opts.retries, async () => {
      // A fresh list per attempt: the hooks of an attempt that rolled back are dropped with it.
      const hooks = new AfterCommitHooks();
      const run = (em: EntityManager) =>
        requestContext.run(
          { ...(outer ?? { requestId: 'internal' }), tx: em, wrotePrimary: true, afterCommit: hooks },
          () => fn(em),
        );
      const isolation = opts.isolation ?? 'READ COMMITTED';
      const result = await (isolation === 'server'
        ? this.primary.transaction(run)
        : this.primary.transaction(isolation, run));
      return { result, hooks };
    });
    await this.notedWrite(outer);
    await this.runHooks(hooks);
    return result;
  }

  /**
   * Registers `hook` to run once the transaction in progress has committed — the outermost one,
   * when calls are nested — and never if it rolls back (a deadlock retry's failed attempt
   * included). Awaited by the outermost `transaction` call before it returns, unless
   * `background`; a failing hook is logged, never turned into the caller's error. Only inside a
   * `transaction` callback (a WriteBatch has its own `afterCommit`).
   */
  afterCommit(hook: AfterCommitHook, opts?: AfterCommitOptions): void {
    const hooks = requestContext.get()?.afterCommit;
    if (!hooks) throw new Error('afterCommit outside a transaction: register it in a transaction callback');
    hooks.add(hook, opts);
  }

  private runHooks(hooks: AfterCommitHooks): Promise<void> | undefined {
    if (!hooks.size) return undefined;
    return runAfterCommit(
      hooks,
      (err) => this.logger.error(`after-commit hook failed (the write stays committed): ${describe(err)}`),
      (p) => {
        this.runningHooks.add(p);
        void p.finally(() => this.runningHooks.delete(p)); // settles: runAfterCommit caught its error
      },
    );
  }

  /**
   * Commits a WriteBatch: `START TRANSACTION`, its statements and `COMMIT` as one
   * multi-statement query when server-side guards decide (one round trip), or, when a statement
   * has a client-side `check`, the statements first and `COMMIT` once every check passed (two).
   * A failed statement, guard or check: `ROLLBACK`, and the check's error or the guard's
   * explanation is thrown. The session's isolation level applies (the batch is write-only: its
   * statements lock the same rows at every level). Deadlocks and lock-wait timeouts re-send the
   * batch like `transaction` re-runs its callback. Not for use inside a `transaction` callback
   * (that transaction's statements run one by one: `runStatements`).
   */
  async commitBatch(batch: WriteBatch, opts: { retries?: number } = {}): Promise<void> {
    const outer = requestContext.get();
    if (outer?.tx) throw new Error('commitBatch inside a transaction: use runStatements on its manager');
    const statements = batch.statements;
    if (!statements.length) return;
    const checked = statements.some((s) => s.check);
    // MySQL gives up waiting for a row lock before the client gives up on the query: a client
    // timeout on a batch that ends in COMMIT leaves its outcome unknown (the server may still
    // commit it), a lock-wait error leaves none (the batch stopped before its COMMIT; retried).
    // The setting is the session's: sent once per pooled connection (the first batch it carries),
    // not with every batch — a statement less per order.
    const lockWaitSec = Math.max(1, Math.floor(this.config.db.queryTimeoutMs / 2000));
    const setLockWait = `SET SESSION innodb_lock_wait_timeout = ${lockWaitSec};\n`;
    const body = ['START TRANSACTION', ...statements.map((s) => s.sql), ...(checked ? [] : ['COMMIT'])].join(
      ';\n',
    );
    const params = statements.flatMap((s) => s.params);
    const results = await this.withRetries(opts.retries, async () => {
      const conn = await (
        this.primary.driver as unknown as { obtainMasterConnection(): Promise<RawConnection> }
      ).obtainMasterConnection();
      const tx: Querier = { query: (q, p) => rawQuery(conn, q, p, this.config.db.queryTimeoutMs) };
      const setsLockWait = this.config.db.queryTimeoutMs > 0 && !this.lockWaitSet.has(conn);
      const first = setsLockWait ? 2 : 1; // results before the batch's own statements
      let usable = true;
      try {
        const res = (await tx.query(setsLockWait ? setLockWait + body : body, params)) as WriteResult[];
        // The SET ran (it comes first; a failure later in the batch does not undo it).
        if (setsLockWait) this.lockWaitSet.add(conn);
        if (checked) {
          for (let i = 0; i < statements.length; i++) await statements[i].check?.(res[first + i], tx);
          await tx.query('COMMIT');
        }
        return res.slice(first);
      } catch (err) {
        // A statement that got no answer leaves the connection stuck (as TypeORM's are handled,
        // see typeorm-options.ts): drop it, the server rolls back. Otherwise roll back here.
        if (isTimeout(err)) usable = false;
        else await tx.query('ROLLBACK').catch(() => (usable = false));
        const done = (err as { completedStatements?: number }).completedStatements;
        if (setsLockWait && done !== undefined && done >= 1) this.lockWaitSet.add(conn);
        const failed = done !== undefined ? statements[done - first] : undefined;
        if (usable && failed?.explain) {
          // The statement that failed says what it means (a guard: which line was short).
          const explained = await failed.explain(err, tx).catch((e: unknown) => {
            if (isTimeout(e)) usable = false;
            return undefined;
          });
          if (explained) throw explained;
        }
        throw err;
      } finally {
        if (usable) conn.release();
        else conn.destroy();
      }
    });
    for (let i = 0; i < statements.length; i++) statements[i].onResult?.(results[i]);
    await this.notedWrite(outer);
    await this.runHooks(batch.hooks);
  }

  private async notedWrite(outer: RequestContext | undefined): Promise<void> {
    if (!outer) return;
    outer.wrotePrimary = true;
    if (outer.userId) await this.recentWriters.noteWrite(outer.userId);
  }

  /** Re-runs `attempt` after a deadlock or lock-wait timeout, up to `retries` times, with jittered backoff. */
  private async withRetries<T>(retries = 3, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const code =
          (err as { code?: string; driverError?: { code?: string } }).code ??
          (err as { driverError?: { code?: string } }).driverError?.code;
        if (n < retries && code && RETRYABLE_TX_ERRORS.has(code)) {
          const wait = 5 * 2 ** n + Math.random() * 10;
          this.logger.debug(`transaction retry ${n + 1} after ${code}`);
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        throw err;
      }
    }
  }

  private pickReplica(): DataSource | undefined {
    const n = this.replicas.length;
    for (let i = 0; i < n; i++) {
      const node = this.replicas[(this.rr++ & 0x7fffffff) % n];
      if (node.status.state === 'up' && node.dataSource) return node.dataSource;
    }
    return undefined;
  }

  /** Waits (bounded) for after-commit hooks still running, while the connections are still open. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.runningHooks.size) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      Promise.allSettled([...this.runningHooks]).then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), HOOK_DRAIN_MS))),
    ]);
    clearTimeout(timer);
    if (!waited) this.logger.warn(`shutdown: ${this.runningHooks.size} after-commit hook(s) still running`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.replicas.map((r) => r.close()));
  }
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));
