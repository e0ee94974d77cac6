import { ipBucket } from './client-info';

describe('ipBucket', () => {
  it('keeps IPv4 addresses whole, and an IPv4-mapped IPv6 address is its IPv4', () => {
    expect(ipBucket('203.0.113.7', 64)).toBe('203.0.113.7');
    expect(ipBucket('::ffff:203.0.113.7', 64)).toBe('203.0.113.7');
    expect(ipBucket('::ffff:cb00:7107', 56)).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses of one /64 (login) under one key, whatever their spelling', () => {
    const keys = [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
      '2001:DB8:1:2:abcd::9',
      '2001:db8:1:2:0:0:1.2.3.4',
      '2001:db8:1:2::1%eth0',
    ].map((ip) => ipBucket(ip, 64));
    expect(new Set(keys)).toEqual(new Set(['2001:db8:1:2:0:0:0:0/64']));
    expect(ipBucket('2001:db8:1:3::1', 64)).toBe('2001:db8:1:3:0:0:0:0/64');
  });

  it('groups by /56 (registration): a /56 spans 256 /64s, and the next /56 is another key', () => {
    expect(ipBucket('2001:db8:1:100::1', 56)).toBe('2001:db8:1:100:0:0:0:0/56');
    expect(ipBucket('2001:db8:1:1ff:ffff::1', 56)).toBe('2001:db8:1:100:0:0:0:0/56');
    expect(ipBucket('2001:db8:1:200::1', 56)).toBe('2001:db8:1:200:0:0:0:0/56');
    expect(ipBucket('::1', 56)).toBe('0:0:0:0:0:0:0:0/56');
  });

  it('passes through what is not an address', () => {
    expect(ipBucket('', 64)).toBe('');
    expect(ipBucket('unknown', 64)).toBe('unknown');
  });
});
