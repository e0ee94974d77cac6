import { ISO_COUNTRIES, isCountryCode } from './countries';

describe('ISO 3166-1 alpha-2 codes', () => {
  it('holds the 249 assigned codes, each two upper-case letters, no duplicates', () => {
    expect(ISO_COUNTRIES.size).toBe(249);
    for (const c of ISO_COUNTRIES) expect(c).toMatch(/^[A-Z]{2}$/);
  });

  it('accepts assigned codes and refuses reserved, user-assigned, lower-case and other shapes', () => {
    for (const ok of ['DE', 'FR', 'US', 'GB', 'JP', 'AX', 'SS', 'CW']) expect(isCountryCode(ok)).toBe(true);
    for (const bad of ['UK', 'EU', 'XK', 'ZZ', 'de', 'DEU', 'D', '', ' DE', 42, null, undefined])
      expect(isCountryCode(bad)).toBe(false);
  });
});
