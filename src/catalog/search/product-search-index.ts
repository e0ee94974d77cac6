import type { ListingPage } from '../catalog.types';
import { BuiltQuery, ListingParams, ListingRow, WORD_SPLIT, toPage } from '../listing-query';

/** An active product as the index takes it: its listing row, its text and its categories. */
export interface SearchDoc {
  row: ListingRow;
  description: string | null;
  /** product_categories: its own category and every ancestor. */
  categoryIds: string[];
}

/** Words shorter than this cannot match: every query word has at least as many characters. */
const MIN_WORD = 3;
/** A word of the name weighs this much more than a word of the description. */
const NAME_WEIGHT = 3;
/** Slots fit a posting (`slot * 256 + weight`) in a small integer. */
const MAX_SLOTS = 2 ** 23 - 1;
/** New words wait in a small unsorted list; past this many they are merged into the sorted one. */
const PENDING_MERGE = 64;

/**
 * Lower case without diacritics, ß as ss and one sigma, as the column collation
 * (utf8mb4_unicode_ci) compares.
 */
export const foldText = (s: string): string =>
  s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/ς/g, 'σ');

/**
 * The indexed words of a text: folded, then split as searchWords splits a query (letters, marks,
 * digits and `_`, which InnoDB's parser counts as a word character), of MIN_WORD characters or more.
 */
export function textWords(text: string): string[] {
  return foldText(text)
    .split(WORD_SPLIT)
    .filter((w) => w.length >= MIN_WORD);
}

const brandKey = (b: string | null | undefined): string | null =>
  b === null || b === undefined ? null : foldText(b).replace(/ +$/, '');

/**
 * The in-process search engine of decision 0032: an inverted index of the active products'
 * name and description words, answering a listing page with text (`q`) the way the FULLTEXT
 * statement does — every query word a required prefix, the same filters (category with
 * descendants, brand, price range), the same sorts, cursors and page JSON — in memory and
 * synchronously. Relevance is its own (idf × weight, name words weigh more); ties by id as in SQL.
 *
 * A product is a slot; a change takes a new slot and leaves the old one dead until the index is
 * compacted (when dead slots outnumber a quarter of the live ones). Not thread-shared: Node runs
 * one search at a time, so the scratch arrays are reused by every query.
 */
export class ProductSearchIndex {
  private readonly slotOf = new Map<string, number>();
  private rows: (ListingRow | undefined)[] = [];
  private price: number[] = [];
  private created: number[] = [];
  private brand: (string | null)[] = [];
  private cats: string[][] = [];
  /** Each slot's words: `count` entries from `start` in the pools (term id; weight). */
  private termStart: number[] = [];
  private termCount: number[] = [];
  private poolTerms = new Int32Array(4096);
  private poolWeights = new Uint8Array(4096);
  private poolLen = 0;
  private dead = 0;

  private readonly termId = new Map<string, number>();
  private terms: string[] = [];
  private sorted: string[] = [];
  private pending: string[] = [];
  /** Per term, its postings: `slot * 256 + weight` (small integers: one compact array each). */
  private post: number[][] = [];
  private liveDf: number[] = [];

  private seen = new Int32Array(1024);
  private score = new Float64Array(1024);
  private stamp = 0;

  /** Active products held. */
  get size(): number {
    return this.slotOf.size;
  }

  /** Distinct words held (dead ones included until compaction). */
  get vocabulary(): number {
    return this.terms.length;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** Adds the product or replaces what the index held for it. */
  upsert(doc: SearchDoc): void {
    this.remove(doc.row.id);
    // Before any word is interned: compaction renumbers every word.
    if (this.rows.length >= MAX_SLOTS && this.dead) this.compact();
    if (this.rows.length >= MAX_SLOTS) throw new Error(`search index full: ${MAX_SLOTS} products`);
    const counts = new Map<string, number>();
    for (const w of textWords(doc.row.name)) counts.set(w, (counts.get(w) ?? 0) + NAME_WEIGHT);
    if (doc.description) for (const w of textWords(doc.description)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const ids = new Int32Array(counts.size);
    const weights = new Uint8Array(counts.size);
    let i = 0;
    for (const [w, c] of counts) {
      ids[i] = this.term(w);
      weights[i++] = Math.min(255, c);
    }
    this.addSlot(doc.row, doc.categoryIds, ids, weights);
  }

  /** Drops the product (archived, drafted or gone); nothing when the index does not hold it. */
  remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    const end = this.termStart[slot] + this.termCount[slot];
    for (let i = this.termStart[slot]; i < end; i++) this.liveDf[this.poolTerms[i]]--;
    this.rows[slot] = undefined;
    this.cats[slot] = [];
    this.dead++;
    if (this.dead > 1000 && this.dead > this.slotOf.size / 4) this.compact();
  }

  /**
   * The page of a listing with text. `q` is the statement built for the same parameters
   * (buildListingQuery: its words, sort, cursor, limit and offset); `p` gives the filters.
   */
  page(q: BuiltQuery, p: ListingParams): ListingPage {
    // A word that repeats another or is a prefix of another query word is implied by it: dropped.
    const folded = [...new Set((q.words ?? []).slice(0, 8).map(foldText))];
    const words = folded.filter((w) => !folded.some((o) => o !== w && o.startsWith(w)));
    if (!words.length) return { items: [], nextCursor: null };
    const ranges = words.map((w) => this.termsWithPrefix(w));
    if (ranges.some((r) => !r.length)) return { items: [], nextCursor: null };
    // Cheapest word first: its postings are the candidates, the others only narrow them.
    const cost = (r: number[]) => r.reduce((n, t) => n + this.post[t].length, 0);
    const order = ranges.map((r, i) => [cost(r), i]).sort((a, b) => a[0] - b[0]);

    const n = this.rows.length;
    if (this.seen.length < n) this.grow(n);
    if (this.stamp >= 200_000_000) {
      this.seen.fill(0);
      this.stamp = 0;
    }
    // seen[d] - base: how many words of this query slot d matched (values of earlier queries are below).
    const base = ++this.stamp * 10;
    const live = Math.max(1, this.slotOf.size);
    const seen = this.seen;
    const score = this.score;
    const candidates: number[] = [];
    for (let j = 0; j < order.length; j++) {
      const before = base + j;
      for (const t of ranges[order[j][1]]) {
        const df = this.liveDf[t];
        if (df <= 0) continue;
        const idf = Math.log(1 + live / df);
        const postings = this.post[t];
        for (let k = 0; k < postings.length; k++) {
          const d = postings[k] >>> 8;
          const w = postings[k] & 255;
          const s = seen[d];
          if (j === 0 && s !== before + 1) {
            if (this.rows[d] === undefined) continue;
            seen[d] = before + 1;
            score[d] = idf * w;
            candidates.push(d);
          } else if (j > 0 && s === before) {
            seen[d] = before + 1;
            score[d] += idf * w;
          } else if (s === before + 1) score[d] += idf * w;
        }
      }
    }
    const all = base + order.length;

    const brand = p.brand !== undefined ? brandKey(p.brand) : undefined;
    const cursor = q.cursor;
    const cv =
      cursor && cursor.s !== 'relevance'
        ? cursor.s === 'newest'
          ? Date.parse(cursor.v as string)
          : Number(cursor.v)
        : 0;
    const cid = cursor && cursor.s !== 'relevance' ? cursor.id : '';
    const key = q.sort === 'newest' ? this.created : q.sort === 'relevance' ? undefined : this.price;
    const asc = q.sort === 'price_asc';
    const ids = this.rows;
    const idOf = (d: number) => ids[d]!.id;
    // better(a, b): a comes before b in the listing order.
    const better = key
      ? (a: number, b: number) =>
          key[a] !== key[b]
            ? asc
              ? key[a] < key[b]
              : key[a] > key[b]
            : asc
              ? idOf(a) < idOf(b)
              : idOf(a) > idOf(b)
      : (a: number, b: number) => (score[a] !== score[b] ? score[a] > score[b] : idOf(a) > idOf(b));

    const k = q.offset + q.limit + 1;
    const heap = new TopK(k, better);
    // From the last candidate: slots are mostly in id order (the load reads by id) and ties go to
    // the higher id, so the heap fills with its winners first and rarely changes afterwards.
    for (let c = candidates.length - 1; c >= 0; c--) {
      const d = candidates[c];
      if (seen[d] !== all) continue;
      if (brand !== undefined && this.brand[d] !== brand) continue;
      if (p.minPrice !== undefined && this.price[d] < p.minPrice) continue;
      if (p.maxPrice !== undefined && this.price[d] > p.maxPrice) continue;
      if (p.categoryId !== undefined && !this.cats[d].includes(p.categoryId)) continue;
      if (key && cursor) {
        const v = key[d];
        if (asc ? v < cv || (v === cv && idOf(d) <= cid) : v > cv || (v === cv && idOf(d) >= cid)) continue;
      }
      heap.offer(d);
    }
    const ranked = heap.sorted();
    return toPage(
      ranked.slice(q.offset, q.offset + q.limit + 1).map((d) => this.rows[d]!),
      q,
    );
  }

  /** After a batch of changes: merges the new words once more than a few are waiting. */
  maintain(): void {
    if (this.pending.length > PENDING_MERGE) this.mergePending();
  }

  /**
   * Sorts the words added since the last merge into the sorted list. O(vocabulary), so it is not
   * done per search or per new word: the owner calls it after a load, and {@link maintain} after
   * each batch of changes; until then searches also scan the short unsorted list of new words.
   */
  mergePending(): void {
    if (!this.pending.length) return;
    const add = this.pending.sort();
    this.pending = [];
    const out: string[] = new Array(this.sorted.length + add.length);
    let i = 0;
    let j = 0;
    let o = 0;
    while (i < this.sorted.length && j < add.length)
      out[o++] = this.sorted[i] < add[j] ? this.sorted[i++] : add[j++];
    while (i < this.sorted.length) out[o++] = this.sorted[i++];
    while (j < add.length) out[o++] = add[j++];
    this.sorted = out;
  }

  // ---- internals -----------------------------------------------------------------------------

  private term(w: string): number {
    let t = this.termId.get(w);
    if (t === undefined) {
      t = this.terms.length;
      this.termId.set(w, t);
      this.terms.push(w);
      this.post.push([]);
      this.liveDf.push(0);
      this.pending.push(w);
    }
    return t;
  }

  private addSlot(row: ListingRow, categoryIds: string[], ids: Int32Array, weights: Uint8Array): void {
    const slot = this.rows.length;
    this.slotOf.set(row.id, slot);
    this.rows.push(row);
    this.price.push(Number(row.min_price));
    this.created.push(new Date(row.created_at).getTime());
    this.brand.push(brandKey(row.brand));
    this.cats.push(categoryIds);
    if (this.poolLen + ids.length > this.poolTerms.length) {
      const size = Math.max(this.poolLen + ids.length, this.poolTerms.length * 2);
      const terms = new Int32Array(size);
      terms.set(this.poolTerms.subarray(0, this.poolLen));
      const ws = new Uint8Array(size);
      ws.set(this.poolWeights.subarray(0, this.poolLen));
      this.poolTerms = terms;
      this.poolWeights = ws;
    }
    this.termStart.push(this.poolLen);
    this.termCount.push(ids.length);
    this.poolTerms.set(ids, this.poolLen);
    this.poolWeights.set(weights, this.poolLen);
    this.poolLen += ids.length;
    for (let i = 0; i < ids.length; i++) {
      this.post[ids[i]].push(slot * 256 + weights[i]);
      this.liveDf[ids[i]]++;
    }
  }

  /** Every term id whose word starts with `prefix`. */
  private termsWithPrefix(prefix: string): number[] {
    const s = this.sorted;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < s.length && s[i].startsWith(prefix); i++) out.push(this.termId.get(s[i])!);
    for (const w of this.pending) if (w.startsWith(prefix)) out.push(this.termId.get(w)!);
    return out;
  }

  private grow(n: number): void {
    const size = Math.max(n, this.seen.length * 2);
    const seen = new Int32Array(size);
    seen.set(this.seen);
    this.seen = seen;
    this.score = new Float64Array(size);
  }

  /** Renumbers the live products into fresh slots and drops dead slots and words no product has. */
  private compact(): void {
    const live = [...this.slotOf.values()].map((s) => ({
      row: this.rows[s]!,
      cats: this.cats[s],
      words: Array.from(
        this.poolTerms.subarray(this.termStart[s], this.termStart[s] + this.termCount[s]),
        (t) => this.terms[t],
      ),
      weights: this.poolWeights.slice(this.termStart[s], this.termStart[s] + this.termCount[s]),
    }));
    this.slotOf.clear();
    this.rows = [];
    this.price = [];
    this.created = [];
    this.brand = [];
    this.cats = [];
    this.termStart = [];
    this.termCount = [];
    this.poolTerms = new Int32Array(4096);
    this.poolWeights = new Uint8Array(4096);
    this.poolLen = 0;
    this.dead = 0;
    this.termId.clear();
    this.terms = [];
    this.sorted = [];
    this.pending = [];
    this.post = [];
    this.liveDf = [];
    this.seen = new Int32Array(Math.max(1024, live.length));
    this.score = new Float64Array(this.seen.length);
    this.stamp = 0;
    for (const d of live)
      this.addSlot(
        d.row,
        d.cats,
        Int32Array.from(d.words, (w) => this.term(w)),
        d.weights,
      );
    this.mergePending();
  }
}

/** The k best items under `better`, kept in a binary heap whose root is the worst of them. */
class TopK {
  private readonly h: number[] = [];

  constructor(
    private readonly k: number,
    private readonly better: (a: number, b: number) => boolean,
  ) {}

  offer(x: number): void {
    const h = this.h;
    if (h.length < this.k) {
      h.push(x);
      let i = h.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.better(h[parent], h[i])) break; // parent is worse or equal: heap holds
        [h[parent], h[i]] = [h[i], h[parent]];
        i = parent;
      }
    } else if (this.better(x, h[0])) {
      h[0] = x;
      this.down(0);
    }
  }

  sorted(): number[] {
    return [...this.h].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }

  private down(i: number): void {
    const h = this.h;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < h.length && this.better(h[worst], h[l])) worst = l;
      if (r < h.length && this.better(h[worst], h[r])) worst = r;
      if (worst === i) return;
      [h[worst], h[i]] = [h[i], h[worst]];
      i = worst;
    }
  }
}
