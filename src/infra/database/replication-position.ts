/**
 * Replication positions as GTIDs, for "has this replica applied that write yet?" — MariaDB and
 * MySQL spell them differently:
 *
 * - MariaDB: `domain-server-seq` per replication domain, comma-separated (`0-1-42,1-3-7`). The
 *   primary's position after a commit is `@@global.gtid_binlog_pos`; what a replica's SQL thread
 *   has applied is `@@global.gtid_slave_pos`. Sequence numbers only grow within a domain (also
 *   across a failover), so "applied" means: for every domain of the write's position, the
 *   replica's sequence number is at least the write's.
 * - MySQL (gtid_mode=ON): a GTID set, `uuid:1-100:105,uuid2:1-7` (8.3+ may add tags:
 *   `uuid:1-5:tag:1-3`), possibly wrapped with newlines. Both the primary's position and what a
 *   replica applied are `@@global.gtid_executed`; "applied" means the write's set is a subset of
 *   the replica's (as GTID_SUBSET would say). With gtid_mode=OFF both read as the empty string.
 *
 * An empty position means "GTIDs unavailable": callers fall back to time-based rules.
 */
export type SqlFlavor = 'mariadb' | 'mysql';

export const detectFlavor = (version: string): SqlFlavor => (/mariadb/i.test(version) ? 'mariadb' : 'mysql');

/** The statement returning the primary's current position (a row `{ pos }`), run right after a commit. */
export const PRIMARY_POSITION_SQL: Record<SqlFlavor, string> = {
  mariadb: 'SELECT @@global.gtid_binlog_pos AS pos',
  mysql: 'SELECT @@global.gtid_executed AS pos',
};

/** The statement returning what a replica has applied (a row `{ pos }`). */
export const REPLICA_POSITION_SQL: Record<SqlFlavor, string> = {
  mariadb: 'SELECT @@global.gtid_slave_pos AS pos',
  mysql: 'SELECT @@global.gtid_executed AS pos',
};

/** MariaDB position → highest sequence number per domain. Throws on text that is not a position. */
export function parseMariaDbPosition(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const part of text.split(',')) {
    const gtid = part.trim();
    if (!gtid) continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
    if (!m) throw new Error(`not a MariaDB GTID: "${gtid}"`);
    const seq = BigInt(m[3]);
    const prev = out.get(m[1]);
    if (prev === undefined || seq > prev) out.set(m[1], seq);
  }
  return out;
}

/** MySQL GTID set → sorted, merged intervals per `uuid` or `uuid:tag`. Throws on text that is not a set. */
export function parseMysqlGtidSet(text: string): Map<string, [bigint, bigint][]> {
  const raw = new Map<string, [bigint, bigint][]>();
  for (const block of text.split(',')) {
    const segments = block.trim().split(':');
    if (segments.length === 1 && !segments[0]) continue;
    const uuid = segments[0].toLowerCase();
    if (
      !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/.test(uuid) ||
      segments.length < 2
    )
      throw new Error(`not a MySQL GTID set: "${block.trim()}"`);
    let source = uuid.replace(/-/g, '');
    for (const seg of segments.slice(1)) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(seg.trim());
      if (m) {
        const lo = BigInt(m[1]);
        const hi = m[2] === undefined ? lo : BigInt(m[2]);
        if (hi < lo || lo < 1n) throw new Error(`not a GTID interval: "${seg}"`);
        const list = raw.get(source) ?? [];
        list.push([lo, hi]);
        raw.set(source, list);
      } else if (/^[a-z_][a-z0-9_]{0,31}$/i.test(seg.trim())) {
        source = `${uuid.replace(/-/g, '')}:${seg.trim().toLowerCase()}`; // a tag: the intervals after it are tagged
      } else throw new Error(`not a GTID interval or tag: "${seg}"`);
    }
  }
  const out = new Map<string, [bigint, bigint][]>();
  for (const [source, list] of raw) {
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const merged: [bigint, bigint][] = [];
    for (const [lo, hi] of list) {
      const last = merged[merged.length - 1];
      if (last && lo <= last[1] + 1n) last[1] = hi > last[1] ? hi : last[1];
      else merged.push([lo, hi]);
    }
    out.set(source, merged);
  }
  return out;
}

/**
 * Whether `replica` (what a replica has applied) includes everything in `write` (the primary's
 * position after a write). An empty `write` is covered by anything; text that does not parse is
 * never covering (the caller then reads the primary, which is always right).
 */
export function covers(flavor: SqlFlavor, replica: string, write: string): boolean {
  if (!write.trim()) return true;
  try {
    if (flavor === 'mariadb') {
      const have = parseMariaDbPosition(replica);
      for (const [domain, seq] of parseMariaDbPosition(write)) {
        const got = have.get(domain);
        if (got === undefined || got < seq) return false;
      }
      return true;
    }
    const have = parseMysqlGtidSet(replica);
    for (const [source, intervals] of parseMysqlGtidSet(write)) {
      const mine = have.get(source) ?? [];
      for (const [lo, hi] of intervals) if (!mine.some(([a, b]) => a <= lo && hi <= b)) return false; // merged: one interval must hold it all
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `pos` parses as a position of `flavor` (an empty one included): a primary answering
 * something else is not used for fences.
 */
export function isPosition(flavor: SqlFlavor, pos: string): boolean {
  try {
    if (flavor === 'mariadb') parseMariaDbPosition(pos);
    else parseMysqlGtidSet(pos);
    return true;
  } catch {
    return false;
  }
}
