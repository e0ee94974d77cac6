import { ListingParams, ListingRow, buildListingQuery, decodeCursor } from '../listing-query';
import { ProductSearchIndex, SearchDoc, textWords } from './product-search-index';

const CAT = { root: '01936f0e-0000-7000-8000-00000000aaa1', leaf: '01936f0e-0000-7000-8000-00000000aaa2' };
const id = (n: number) => `01936f0e-0000-7000-8000-${String(n).padStart(12, '0')}`;

function doc(
  n: number,
  name: string,
  extra: Partial<ListingRow> & { description?: string; cats?: string[] } = {},
): SearchDoc {
  const { description, cats, ...row } = extra;
  return {
    row: {
      id: id(n),
      name,
      slug: `p-${n}`,
      brand: 'Acme',
      category_id: cats?.[0] ?? null,
      min_price: 1000 + n,
      currency: 'EUR',
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
      ...row,
    },
    description: description ?? null,
    categoryIds: cats ?? [],
  };
}

/** The page for these parameters, built exactly as the service builds it. */
function search(index: ProductSearchIndex, p: ListingParams) {
  const q = buildListingQuery(p, (c) => c)!;
  return index.page(q, p);
}
const names = (page: { items: { name: string }[] }) => page.items.map((i) => i.name);

describe('ProductSearchIndex', () => {
  it('reads words as FULLTEXT tokenizes them: letters and digits, 3+ characters, without case or diacritics', () => {
    expect(textWords('Merino-Wool T-Shirt, 2XL Café')).toEqual(['merino', 'wool', 'shirt', '2xl', 'cafe']);
  });

  it('folds as the collation compares (ß, final sigma, dotted İ) and keeps `_` inside a word as InnoDB does', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Straße Map'));
    index.upsert(doc(2, 'ΟΔΟΣ Guide'));
    index.upsert(doc(3, 'Istanbul Tea'));
    index.upsert(doc(4, 'T_Shirt Classic'));
    expect(names(search(index, { q: 'strasse' }))).toEqual(['Straße Map']);
    expect(names(search(index, { q: 'οδοσ' }))).toEqual(['ΟΔΟΣ Guide']);
    expect(names(search(index, { q: 'İstanbul' }))).toEqual(['Istanbul Tea']);
    expect(names(search(index, { q: 't_shirt' }))).toEqual(['T_Shirt Classic']);
    expect(names(search(index, { q: 'shirt' }))).toEqual([]); // one token, as in FULLTEXT
  });

  it('takes a repeated word, or one implied by a longer word it prefixes, once', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Formal Shirt'));
    index.upsert(doc(2, 'Format Guide'));
    const q = buildListingQuery({ q: 'for for formal for' }, (c) => c)!;
    expect(q.words).toEqual(['for', 'for', 'formal', 'for']);
    expect(names(index.page(q, {}))).toEqual(['Formal Shirt']);
  });

  it('takes every query word as a required prefix over name and description', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Merino Wool Sweater'));
    index.upsert(doc(2, 'Cotton Sweater', { description: 'Soft merino blend' }));
    index.upsert(doc(3, 'Merino Socks'));
    index.upsert(doc(4, 'Woollen Hat'));
    expect(names(search(index, { q: 'merino sweat' })).sort()).toEqual([
      'Cotton Sweater',
      'Merino Wool Sweater',
    ]);
    expect(names(search(index, { q: 'wool' })).sort()).toEqual(['Merino Wool Sweater', 'Woollen Hat']);
    expect(names(search(index, { q: 'CAFÉ merino' }))).toEqual([]);
    expect(names(search(index, { q: 'wool zzz' }))).toEqual([]);
    // Words of the name weigh more than words of the description.
    expect(names(search(index, { q: 'merino' }))[0]).not.toBe('Cotton Sweater');
  });

  it('filters by category (with descendants), brand (case and accents ignored) and price range', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Trail Shoe', { cats: [CAT.leaf, CAT.root], brand: 'Ålpine', min_price: 5000 }));
    index.upsert(doc(2, 'Trail Jacket', { cats: [CAT.root], brand: 'Other', min_price: 9000 }));
    index.upsert(doc(3, 'Trail Map', { min_price: 100 }));
    expect(names(search(index, { q: 'trail', categoryId: CAT.root })).sort()).toEqual([
      'Trail Jacket',
      'Trail Shoe',
    ]);
    expect(names(search(index, { q: 'trail', categoryId: CAT.leaf }))).toEqual(['Trail Shoe']);
    expect(names(search(index, { q: 'trail', brand: 'alpine' }))).toEqual(['Trail Shoe']);
    expect(names(search(index, { q: 'trail', minPrice: 200, maxPrice: 5000 }))).toEqual(['Trail Shoe']);
  });

  it('sorts and pages by keyset cursors like the SQL statement, ties by id', () => {
    const index = new ProductSearchIndex();
    for (let n = 1; n <= 7; n++) index.upsert(doc(n, `Lamp ${n}`, { min_price: n % 2 ? 500 : 700 }));
    const walk = (p: ListingParams) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = search(index, { ...p, limit: 3, cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
        if (cursor) decodeCursor(cursor, p.sort ?? 'relevance'); // a cursor the SQL path accepts too
      } while (cursor);
      return seen;
    };
    expect(walk({ q: 'lamp', sort: 'newest' })).toEqual([7, 6, 5, 4, 3, 2, 1].map(id));
    expect(walk({ q: 'lamp', sort: 'price_asc' })).toEqual([1, 3, 5, 7, 2, 4, 6].map(id));
    expect(walk({ q: 'lamp', sort: 'price_desc' })).toEqual([6, 4, 2, 7, 5, 3, 1].map(id));
    // Equal relevance: id descending, offset cursors.
    expect(walk({ q: 'lamp' })).toEqual([7, 6, 5, 4, 3, 2, 1].map(id));
  });

  it('answers the page JSON of the SQL path (items and fields in the same order)', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Desk Lamp', { brand: null }));
    expect(JSON.stringify(search(index, { q: 'desk' }))).toBe(
      JSON.stringify({
        items: [
          {
            id: id(1),
            name: 'Desk Lamp',
            slug: 'p-1',
            brand: null,
            categoryId: null,
            price: 1001,
            currency: 'EUR',
            createdAt: '2026-01-01T00:00:01.000Z',
          },
        ],
        nextCursor: null,
      }),
    );
  });

  it('replaces a changed product, drops a removed one, and stays right through compaction', () => {
    const index = new ProductSearchIndex();
    index.upsert(doc(1, 'Red Kettle'));
    index.upsert(doc(1, 'Blue Kettle'));
    expect(names(search(index, { q: 'kettle' }))).toEqual(['Blue Kettle']);
    expect(names(search(index, { q: 'red' }))).toEqual([]);
    index.remove(id(1));
    expect(search(index, { q: 'kettle' }).items).toEqual([]);
    expect(index.size).toBe(0);

    // Enough changes to compact several times; the answers stay those of the last versions.
    for (let round = 0; round < 5; round++)
      for (let n = 0; n < 1500; n++)
        index.upsert(doc(n, `Item${round} Gadget ${n % 3 ? 'plain' : 'special'}`));
    expect(index.size).toBe(1500);
    expect(search(index, { q: 'item4 special', limit: 100 }).items).toHaveLength(100);
    expect(search(index, { q: 'item3' }).items).toEqual([]);
    expect(index.vocabulary).toBeLessThan(20); // words of older versions left with compaction
  });

  it('answers what a plain scan answers, for many random catalogs and queries', () => {
    let seed = 42;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const vocab = [
      'alpha',
      'alpine',
      'altitude',
      'beta',
      'bet',
      'camp',
      'camper',
      'delta',
      'del',
      'echo',
      'ember',
      'emberglow',
    ];
    const text = (k: number) => Array.from({ length: k }, () => vocab[rnd(vocab.length)]).join(' ');
    const index = new ProductSearchIndex();
    const docs = new Map<number, SearchDoc>();
    for (let n = 0; n < 3000; n++) {
      const d = doc(n, text(1 + rnd(3)), { description: `${text(rnd(4))} common`, min_price: rnd(50) });
      docs.set(n, d);
      index.upsert(d);
    }
    for (let n = 0; n < 1500; n++) {
      const k = rnd(3000);
      if (rnd(3) === 0) {
        index.remove(id(k));
        docs.delete(k);
      } else {
        const d = doc(k, text(1 + rnd(3)), { description: `${text(rnd(4))} common`, min_price: rnd(50) });
        docs.set(k, d);
        index.upsert(d);
      }
    }
    const prefixes = [
      'alp',
      'alpha',
      'alt',
      'bet',
      'beta',
      'cam',
      'del',
      'delta',
      'ech',
      'emb',
      'embergl',
      'com',
      'zzz',
    ];
    for (let i = 0; i < 200; i++) {
      const words = Array.from({ length: 1 + rnd(3) }, () => prefixes[rnd(prefixes.length)]);
      const maxPrice = rnd(2) ? 25 : undefined;
      const expected = [...docs.values()]
        .filter((d) => {
          const mine = textWords(`${d.row.name} ${d.description}`);
          return (
            words.every((w) => mine.some((m) => m.startsWith(w))) &&
            (maxPrice === undefined || d.row.min_price <= maxPrice)
          );
        })
        .sort((x, y) => Number(y.row.min_price) - Number(x.row.min_price) || (x.row.id < y.row.id ? 1 : -1))
        .map((d) => d.row.id);
      const got: string[] = [];
      let cursor: string | undefined;
      do {
        const page = search(index, { q: words.join(' '), sort: 'price_desc', maxPrice, limit: 100, cursor });
        got.push(...page.items.map((x) => x.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect({ words, maxPrice, got }).toEqual({ words, maxPrice, got: expected });
      const relevance = search(index, { q: words.join(' '), maxPrice, limit: 100 }).items.map((x) => x.id);
      if (expected.length <= 100) expect(relevance.sort()).toEqual([...expected].sort());
      else {
        expect(relevance).toHaveLength(100);
        expect(relevance.filter((x) => !expected.includes(x))).toEqual([]);
      }
    }
  });
});
