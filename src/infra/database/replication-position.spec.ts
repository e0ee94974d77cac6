import {
  PRIMARY_POSITION_SQL,
  REPLICA_POSITION_SQL,
  covers,
  detectFlavor,
  isPosition,
  parseMariaDbPosition,
  parseMysqlGtidSet,
} from './replication-position';

const A = '3E11FA47-71CA-11E1-9E33-C80AA9429562';
const B = '4a6b5c3d-0000-11ee-8c99-0242ac120002';

describe('replication positions', () => {
  it('tells MariaDB from MySQL by VERSION()', () => {
    expect(detectFlavor('10.11.19-MariaDB-0+deb12u1-log')).toBe('mariadb');
    expect(detectFlavor('11.4.2-MariaDB')).toBe('mariadb');
    expect(detectFlavor('8.4.3')).toBe('mysql');
    expect(detectFlavor('8.0.39-commercial')).toBe('mysql');
  });

  it('reads each flavour from its own variables', () => {
    expect(PRIMARY_POSITION_SQL.mariadb).toContain('@@global.gtid_binlog_pos');
    expect(REPLICA_POSITION_SQL.mariadb).toContain('@@global.gtid_slave_pos');
    expect(PRIMARY_POSITION_SQL.mysql).toContain('@@global.gtid_executed');
    expect(REPLICA_POSITION_SQL.mysql).toContain('@@global.gtid_executed');
  });

  describe('MariaDB', () => {
    it('parses domain-server-seq lists, keeping the highest sequence per domain', () => {
      expect(parseMariaDbPosition('0-1-42')).toEqual(new Map([['0', 42n]]));
      expect(parseMariaDbPosition('0-1-42, 1-3-7,0-2-40')).toEqual(
        new Map([
          ['0', 42n],
          ['1', 7n],
        ]),
      );
      expect(parseMariaDbPosition('')).toEqual(new Map());
      expect(parseMariaDbPosition('0-1-18446744073709551615').get('0')).toBe(18446744073709551615n);
      expect(() => parseMariaDbPosition('0-1')).toThrow(/not a MariaDB GTID/);
      expect(() => parseMariaDbPosition(`${A}:1-5`)).toThrow();
    });

    it('covers a write when every domain of it is reached, whichever server wrote it', () => {
      expect(covers('mariadb', '0-1-42', '0-1-42')).toBe(true);
      expect(covers('mariadb', '0-1-43', '0-1-42')).toBe(true);
      expect(covers('mariadb', '0-1-41', '0-1-42')).toBe(false);
      // After a failover the new primary (server 2) continues the domain's sequence.
      expect(covers('mariadb', '0-2-50', '0-1-42')).toBe(true);
      expect(covers('mariadb', '0-1-42', '0-1-42,1-2-3')).toBe(false); // domain 1 not applied at all
      expect(covers('mariadb', '0-1-42,1-2-3', '1-2-3')).toBe(true);
      expect(covers('mariadb', '', '')).toBe(true); // no GTIDs: nothing to wait for
      expect(covers('mariadb', 'garbage', '0-1-1')).toBe(false);
    });
  });

  describe('MySQL', () => {
    it('parses GTID sets with newlines, single numbers, several sources and tags', () => {
      const set = parseMysqlGtidSet(`${A}:1-5:7:6,\n${B}:1-3:10-12`);
      expect(set.get(A.toLowerCase().replace(/-/g, ''))).toEqual([[1n, 7n]]);
      expect(set.get(B.replace(/-/g, ''))).toEqual([
        [1n, 3n],
        [10n, 12n],
      ]);
      const tagged = parseMysqlGtidSet(`${A}:1-5:Domain_1:1-3:11`);
      const a = A.toLowerCase().replace(/-/g, '');
      expect(tagged.get(a)).toEqual([[1n, 5n]]);
      expect(tagged.get(`${a}:domain_1`)).toEqual([
        [1n, 3n],
        [11n, 11n],
      ]);
      expect(parseMysqlGtidSet('')).toEqual(new Map());
      expect(() => parseMysqlGtidSet('0-1-42')).toThrow(/not a MySQL GTID set/);
      expect(() => parseMysqlGtidSet(`${A}:5-1`)).toThrow(/interval/);
      expect(() => parseMysqlGtidSet(`${A}:1-2:not a tag`)).toThrow();
    });

    it('covers a write when its set is a subset of what the replica executed', () => {
      expect(covers('mysql', `${A}:1-100`, `${A}:1-100`)).toBe(true);
      expect(covers('mysql', `${A}:1-100`, `${A}:1-101`)).toBe(false);
      // Gaps: a multi-threaded applier may have 1-50 and 52-60 done, not 51.
      expect(covers('mysql', `${A}:1-50:52-60`, `${A}:1-51`)).toBe(false);
      expect(covers('mysql', `${A}:1-50:51-60`, `${A}:1-55`)).toBe(true); // adjacent intervals merge
      expect(covers('mysql', `${A}:1-60,\n${B}:1-9`, `${B}:1-9,${A}:1-60`)).toBe(true);
      expect(covers('mysql', `${A}:1-60`, `${A}:1-60,${B}:1`)).toBe(false); // another source not applied
      expect(covers('mysql', `${A}:1-60`, `${A}:1-5:t1:1`)).toBe(false); // tagged transactions are their own source
      expect(covers('mysql', `${A}:1-60:t1:1-2`, `${A}:1-5:T1:1`)).toBe(true);
      expect(covers('mysql', '', '')).toBe(true); // gtid_mode=OFF
      expect(covers('mysql', '', `${A}:1`)).toBe(false);
    });
  });

  it('accepts only positions of the flavour', () => {
    expect(isPosition('mariadb', '0-1-2')).toBe(true);
    expect(isPosition('mariadb', '')).toBe(true);
    expect(isPosition('mariadb', `${A}:1-2`)).toBe(false);
    expect(isPosition('mysql', `${A}:1-2`)).toBe(true);
    expect(isPosition('mysql', '0-1-2')).toBe(false);
  });
});
