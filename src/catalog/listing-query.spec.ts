import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createValidationPipe } from '../infra/http/validation.pipe';
import { ListProductsQuery } from './catalog.dto';
import {
  buildListingQuery,
  decodeCursor,
  encodeCursor,
  plainListingParams,
  toBooleanQuery,
} from './listing-query';

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

describe('plainListingParams (the HTTP edge’s reading of a listing query)', () => {
  /** The query as the pipeline has it: Fastify's own parser, then the global ValidationPipe. */
  let viaPipeline: (raw: string) => Promise<Record<string, unknown> | 'refused'>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const fastify = new FastifyAdapter().getInstance();
    fastify.get('/q', (req, reply) => reply.send(req.query));
    await fastify.ready();
    close = () => fastify.close();
    const pipe = createValidationPipe();
    viaPipeline = async (raw) => {
      const res = await fastify.inject({ method: 'GET', url: `/q?${raw}` });
      const query = JSON.parse(res.body) as unknown;
      try {
        const dto = (await pipe.transform(query, { type: 'query', metatype: ListProductsQuery })) as object;
        return { ...dto };
      } catch {
        return 'refused';
      }
    };
  });
  afterAll(() => close());

  it('reads what the pipeline would hand the controller, value for value', async () => {
    const plain = [
      '',
      'limit=20&sort=newest',
      'sort=newest&limit=20',
      'q=cotton+shirt',
      'q=caf%C3%A9%20cr%C3%A8me&sort=relevance',
      'q=a%2Bb',
      'brand=Acme&minPrice=100&maxPrice=5000&sort=price_asc',
      'categoryId=0190a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40&limit=100',
      'limit=1',
      'limit=%32%30',
      `q=${'x'.repeat(200)}`,
      'minPrice=0&maxPrice=2000000000',
    ];
    for (const raw of plain) {
      const edge = plainListingParams(raw);
      expect({ raw, edge }).toEqual({ raw, edge: await viaPipeline(raw) });
    }
  });

  it('declines anything it does not read exactly so (the pipeline then judges it)', async () => {
    const declined = [
      'limit=0',
      'limit=101',
      'limit=1e1',
      'limit=0020',
      'sort=cheapest',
      'q=a&q=b',
      'q=',
      'q',
      'a=1',
      'limit=20&&sort=newest',
      'q=%E0%A4%A',
      `q=${'x'.repeat(201)}`,
      'brand=' + 'b'.repeat(121),
      'categoryId=0190A5B0-7C1E-7A3D-9F2E-4B8C1D2E3F40',
      'categoryId=nope',
      'minPrice=-1',
      'minPrice=10&maxPrice=5',
      'maxPrice=2000000001',
      'cursor=abc',
      'inStock=true',
      '__proto__=1',
    ];
    for (const raw of declined)
      expect({ raw, edge: plainListingParams(raw) }).toEqual({ raw, edge: undefined });
    // The refusals among them are the pipeline's to answer (400), not the edge's.
    for (const raw of ['limit=0', 'limit=101', 'sort=cheapest', 'a=1', 'categoryId=nope', 'minPrice=-1'])
      expect({ raw, pipeline: await viaPipeline(raw) }).toEqual({ raw, pipeline: 'refused' });
  });
});
