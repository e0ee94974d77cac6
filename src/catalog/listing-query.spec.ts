import { buildListingQuery, decodeCursor, encodeCursor, toBooleanQuery } from './listing-query';

const inStock = (col: string) => `in_stock(${col})`;

describe('toBooleanQuery', () => {
  it('keeps only words as required prefix terms, so boolean-mode operators cannot pass', () => {
    expect(toBooleanQuery('Merino wool')).toBe('+merino* +wool*');
    expect(toBooleanQuery('+shoe -"red" (trail)* ~<>@')).toBe('+shoe* +red* +trail*');
    expect(toBooleanQuery(`'; DROP TABLE products; --`)).toBe('+drop* +table* +products*');
    expect(toBooleanQuery('Äpfel café')).toBe('+äpfel* +café*');
  });

  it('drops words below the FULLTEXT minimum token size and caps the number of terms', () => {
    expect(toBooleanQuery('tv a of')).toBeUndefined();
    expect(
      toBooleanQuery(Array.from({ length: 20 }, (_, i) => `word${i}`).join(' '))!.split(' '),
    ).toHaveLength(8);
  });
});

describe('cursor', () => {
  it('round-trips and is bound to its sort', () => {
    const c = encodeCursor({ s: 'price_asc', v: 1999, id: '0190a5b0-0000-7000-8000-000000000001' });
    expect(decodeCursor(c, 'price_asc')).toEqual({
      s: 'price_asc',
      v: 1999,
      id: '0190a5b0-0000-7000-8000-000000000001',
    });
    expect(() => decodeCursor(c, 'newest')).toThrow(/cursor/);
    expect(() => decodeCursor('not-base64-json', 'newest')).toThrow(/cursor/);
    expect(() => decodeCursor(encodeCursor({ s: 'relevance', o: 5000 }), 'relevance')).toThrow(/cursor/);
  });
});

describe('buildListingQuery', () => {
  it('drives category listings from product_categories and pages by keyset, never by OFFSET', () => {
    const first = buildListingQuery({ categoryId: 'c', sort: 'price_desc', limit: 10 }, inStock)!;
    expect(first.sql).toContain('FROM product_categories pc JOIN products p');
    expect(first.sql).toContain('ORDER BY pc.min_price DESC, pc.product_id DESC LIMIT 11');
    const cursor = encodeCursor({ s: 'price_desc', v: 500, id: 'x' });
    const next = buildListingQuery({ categoryId: 'c', sort: 'price_desc', limit: 10, cursor }, inStock)!;
    expect(next.sql).toContain('pc.min_price <= ? AND (pc.min_price < ? OR pc.product_id < ?)');
    expect(next.sql).not.toContain('OFFSET');
    expect(next.params).toEqual(['c', 500, 500, 'x']);
  });

  it('defaults to relevance with q and to newest without; relevance needs q', () => {
    expect(buildListingQuery({ q: 'shoes' }, inStock)!.sort).toBe('relevance');
    expect(buildListingQuery({}, inStock)!.sort).toBe('newest');
    expect(() => buildListingQuery({ sort: 'relevance' }, inStock)).toThrow(/relevance/);
    expect(buildListingQuery({ q: 'ab' }, inStock)).toBeUndefined();
  });

  it('binds every user value as a parameter', () => {
    const q = buildListingQuery(
      { q: 'x"; --', brand: "b' OR 1=1", minPrice: 1, maxPrice: 2, inStock: true },
      inStock,
    );
    expect(q).toBeUndefined(); // "x" is too short to search
    const r = buildListingQuery({ brand: "b' OR 1=1", minPrice: 1, maxPrice: 2, inStock: true }, inStock)!;
    expect(r.sql).not.toContain("b' OR 1=1");
    expect(r.params).toEqual(["b' OR 1=1", 1, 2]);
    expect(r.sql).toContain('in_stock(v.sku)');
  });
});
