import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis, { Cluster, RedisOptions } from 'ioredis';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { clusterNodesFromUrl, redisOptionsFromUrl } from './redis-url';
import { RespLane } from './resp-lane';

type Handler = (message: string) => void;

/**
 * The shared Redis connections of one process: `client` for commands (auto-pipelined) and
 * `subscriber` for pub/sub. Commands fail fast while Redis is unreachable (no offline queue, one retry), so
 * callers answer 503 or degrade instead of hanging; while Redis accepts connections but does not
 * answer, every command fails after REDIS_COMMAND_TIMEOUT_MS and the silent connection is
 * replaced (see {@link commandBounds}). Keys are namespaced with {@link key}.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  private readonly logger = new Logger('Redis');
  readonly client: Redis;
  readonly subscriber: Redis;
  /** See {@link lane}: opened on first use (null: this URL gets none, or shut down). */
  private laneConn?: RespLane | null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private lastPublishError = '';

  constructor(private readonly config: AppConfig) {
    this.client = this.create('client');
    this.subscriber = this.create('subscriber');
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch (err) {
          this.logger.error(`handler for ${channel} failed: ${(err as Error).message}`);
        }
      }
    });
  }

  /**
   * Connection options for any client of this app (commands, pub/sub, Bull, the cache, stream
   * consumers) so they all behave the same: one server or a Sentinel group (see redis-url.ts).
   */
  static connectionOptions(url: string, extra: RedisOptions = {}): RedisOptions {
    return {
      ...redisOptionsFromUrl(url),
      // Generous connect timeout: a timer that fires while the event loop was busy (a cold boot
      // compiling modules) would otherwise abort a connect that had in fact succeeded.
      connectTimeout: 10000,
      retryStrategy: (n: number) => Math.min(n * 100, 1000),
      ...extra,
    };
  }

  /**
   * Options that bound every command of a connection that carries no blocking command (or only
   * blocking commands that block at most `blockingMs`), docs/decisions/0014:
   * - `commandTimeout`: a command without an answer within the bound rejects ("Command timed
   *   out" → 503 UNAVAILABLE, dependency redis), whether Redis is slow, stuck on a fork or cut off;
   * - `socketTimeout`: a connection that received nothing for that long after a command was
   *   written is destroyed and reconnected, so later commands fail at once (no offline queue)
   *   instead of each waiting out the bound, and a fresh connection serves as soon as Redis
   *   answers again (a black-holed socket may never deliver another reply);
   * - no automatic re-sending of commands that were in flight on a connection that died: a
   *   caller already told "unavailable" must not see its purchase or write run later.
   */
  static commandBounds(timeoutMs: number, blockingMs = 0): RedisOptions {
    return {
      commandTimeout: timeoutMs + blockingMs,
      socketTimeout: timeoutMs + blockingMs,
      autoResendUnfulfilledCommands: false,
    };
  }

  /**
   * A new client with {@link connectionOptions}. For `redis+cluster://` it is an ioredis
   * `Cluster` (slot-aware, follows MOVED/ASK and failovers); it answers the same commands, Lua
   * scripts and pub/sub as a single-node client for keys that share a hash tag: every multi-key
   * command or script of this app names keys of one tag (a sale, a queue, a cache shard, a
   * throttled caller; decision 0025).
   */
  static createClient(url: string, extra: RedisOptions = {}): Redis {
    const cluster = clusterNodesFromUrl(url);
    if (cluster) {
      const { enableOfflineQueue, enableAutoPipelining, ...perNode } = RedisService.connectionOptions(
        url,
        extra,
      );
      void enableAutoPipelining;
      return new Cluster(cluster.nodes, {
        redisOptions: perNode,
        enableOfflineQueue: enableOfflineQueue ?? true,
        // Never auto-pipelined on a cluster: ioredis re-sends a pipeline after MOVED/ASK only when
        // every command in it got the same redirection, and an automatic pipeline mixes commands
        // of many slots of one node — after a failover or a resharding its callers would get the
        // bare MOVED errors and 500s (seen in test/redis/redis-cluster.e2e-spec.ts, with it on:
        // purchases answered 500 at a CLUSTER FAILOVER, cache fills lost). It costs throughput:
        // the bench's cluster scenario shows it. Decision 0025.
        enableAutoPipelining: false,
        clusterRetryStrategy: (n: number) => Math.min(n * 100, 1000),
        slotsRefreshTimeout: 5000,
      }) as unknown as Redis;
    }
    return new Redis(RedisService.connectionOptions(url, extra));
  }

  /**
   * A lean connection for the hot paths' few commands (the cart's script and read) to one Redis
   * server, opened on first use; undefined on a Sentinel group or a Redis Cluster (RespLane,
   * decision 0030). Callers use it while it is {@link RespLane.ready} and `client` otherwise.
   */
  get lane(): RespLane | undefined {
    if (this.laneConn === undefined)
      this.laneConn =
        RedisService.createLane(this.config.redis.url, this.config.redis.commandTimeoutMs) ?? null;
    return this.laneConn ?? undefined;
  }

  /** A {@link RespLane} to the server of a `redis://` or `rediss://` URL; none for Sentinel or Cluster. */
  static createLane(url: string, commandTimeoutMs: number): RespLane | undefined {
    if (!url.startsWith('redis://') && !url.startsWith('rediss://')) return undefined;
    const o = redisOptionsFromUrl(url);
    return new RespLane({
      host: o.host!,
      port: o.port!,
      username: o.username,
      password: o.password,
      db: o.db,
      tls: !!o.tls,
      commandTimeoutMs,
      connectTimeoutMs: 10000,
      name: 'nest-commerce:lane',
    });
  }

  private create(role: string): Redis {
    const r = RedisService.createClient(this.config.redis.url, {
      // The subscriber only waits for messages (SUBSCRIBE is bounded in subscribe()).
      ...(role === 'client' ? RedisService.commandBounds(this.config.redis.commandTimeoutMs) : {}),
      // Commands fail fast while Redis is unreachable; SUBSCRIBE waits for the connection
      // (ioredis re-subscribes after every reconnect) and is bounded in subscribe().
      maxRetriesPerRequest: role === 'subscriber' ? null : 1,
      enableOfflineQueue: role === 'subscriber',
      // Commands issued in one event-loop turn (concurrent requests) leave in one write and come
      // back in one read: under load, one syscall pair for many purchases or cache reads instead
      // of one per command. Blocking commands never use this connection (stream consumers have
      // their own), so nothing can hold up a batch.
      enableAutoPipelining: role === 'client',
      lazyConnect: false,
      connectionName: `nest-commerce:${role}`,
      // The ready check's INFO is refused once SUBSCRIBE went out during the handshake, which
      // ioredis 5 allows (ioredis#2037): the first boot logged "ERR Can't execute 'info'" and
      // reconnected. A subscriber needs no ready check (SUBSCRIBE works while Redis loads).
      enableReadyCheck: role !== 'subscriber',
    });
    let lastError = '';
    r.on('error', (err: Error) => {
      if (err.message !== lastError) this.logger.warn(`${role}: ${err.message}`);
      lastError = err.message;
    });
    r.on('ready', () => {
      if (lastError) this.logger.log(`${role}: reconnected`);
      lastError = '';
    });
    return r;
  }

  /** Resolves once the command connection is usable (bounded), so boot fails clearly if Redis is absent. */
  async waitReady(timeoutMs = 10000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`Redis at REDIS_URL not reachable within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.client.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  key(...parts: (string | number)[]): string {
    return [this.config.redis.prefix, ...parts].join(':');
  }

  /**
   * `name` as a hash tag on a Redis Cluster (`{name}`), as is on one Redis: for a group of keys
   * that scripts use together and that had untagged names before clusters were supported, so
   * their names on one Redis stay what they were (decision 0025).
   */
  clusterTag(name: string): string {
    return this.config.redis.cluster ? `{${name}}` : name;
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    const full = this.key('ch', channel);
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      await withTimeout(
        this.subscriber.subscribe(full),
        15000,
        `Redis SUBSCRIBE ${channel} (REDIS_URL)`,
        'redis',
      );
    }
    set.add(handler);
  }

  /**
   * Best effort and bounded (REDIS_COMMAND_TIMEOUT_MS), never throws: a broadcast lost while Redis
   * is down is covered by TTLs on what it invalidates. Callers publish after a commit, so a
   * silent Redis must neither hang nor fail a write that is already durable.
   */
  async publish(channel: string, message: string): Promise<void> {
    try {
      await this.bounded(this.client.publish(this.key('ch', channel), message), `PUBLISH ${channel}`);
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.lastPublishError) this.logger.warn(`publish ${channel} failed: ${msg}`);
      this.lastPublishError = msg;
      return;
    }
    this.lastPublishError = '';
  }

  /**
   * `p` (a Redis call) bounded by REDIS_COMMAND_TIMEOUT_MS. The connections bound their commands
   * themselves ({@link commandBounds}); this also bounds what waits outside a connection (a
   * Cluster's queue while it discovers its slots, several commands in a row).
   */
  bounded<T>(p: Promise<T>, what = 'command'): Promise<T> {
    return withTimeout(p, this.config.redis.commandTimeoutMs, `Redis ${what}`, 'redis');
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  async onModuleDestroy(): Promise<void> {
    // QUIT politely, but never wait on a Redis that is gone: disconnect() also stops the
    // reconnect timer, which would otherwise keep the process alive after shutdown.
    const bounded = (p: Promise<unknown>) =>
      Promise.race([p, new Promise((r) => setTimeout(r, 1000).unref())]);
    await Promise.allSettled([bounded(this.client.quit()), bounded(this.subscriber.quit())]);
    this.client.disconnect();
    this.subscriber.disconnect();
    this.laneConn?.close();
    this.laneConn = null;
  }
}
