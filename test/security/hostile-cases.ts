/**
 * Generates hostile requests for every operation of the OpenAPI document (issue 10): wrong types,
 * missing and unknown fields, huge strings and arrays, out-of-range numbers, unicode and injection
 * strings in body fields, path, query and header parameters, malformed JSON and wrong content
 * types. Pure functions: the spec file supplies the document, valid example requests per
 * operation (fixtures) and sends the cases.
 */
import { randomBytes } from 'node:crypto';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Key = string | number;

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: any }>>;
  components?: { schemas?: Record<string, Schema> };
}

/** `signedOut`: a customer whose sessions are all ended already (logout-all then changes nothing). */
export type Caller = 'none' | 'customer' | 'admin' | 'signedOut';

/** A valid request for one operation, and a "doomed" variant that fails after validation. */
export interface OperationFixture {
  caller: Caller;
  /** Path parameter values of an existing resource (so only the mutated part is wrong). */
  params?: Record<string, string>;
  /** A valid body: accepting one of its mutations would be seen as a 2xx and a database change. */
  body?: Json;
  /** Body for operations the document gives none (the webhook): only raw-body cases are generated. */
  rawBody?: string;
  /**
   * Same request, but bound to fail after validation (unknown target, taken email...). Content
   * cases (unicode, injection strings: data a field may legitimately hold) mutate this one, so
   * the request reaches the service and the database without being able to write.
   */
  doomed?: { params?: Record<string, string>; body?: Json };
}

/** 'reject': must be a 4xx. 'survive': the value may be legitimate data; anything but a 5xx. */
export type Expectation = 'reject' | 'survive';

export interface HostileCase {
  op: string;
  what: string;
  expect: Expectation;
  method: string;
  /** Path with parameters substituted and percent-encoded, query string included. */
  url: string;
  caller: Caller;
  headers: Record<string, string>;
  /** Built on demand (some are a megabyte). */
  body?: () => string | Buffer;
  /** The hostile string, removed from the response before the leak check (errors may echo it). */
  payload?: string;
}

// ------------------------------------------------------------------------------------------------
// values

export const HUGE_STRING_CHARS = 1_000_000;
const HUGE_ARRAY = 10_001;
const LONG_PARAM = 5_000;
const LONG_QUERY = 8_000;
const DEEP = 5_000;

/** Strings a field might legitimately hold, or that attack SQL, NoSQL, paths, templates, logs. */
export const CONTENT_STRINGS: [string, string][] = [
  ['sql quote', "' OR '1'='1"],
  ['sql drop', "'; DROP TABLE users; --"],
  ['sql union', "1' UNION SELECT password_hash, email FROM users -- "],
  ['sql comment', "admin'/*"],
  ['sql backslash', "\\' OR 1=1 #"],
  ['sql sleep', '1 AND SLEEP(3)'],
  ['sql double quote', '" OR ""="'],
  ['sql like wildcard', '%_%'],
  ['nosql operator', '{"$gt": ""}'],
  ['nosql where', "'; return true; var x='"],
  ['path traversal', '../../../../etc/passwd'],
  ['path traversal encoded', '..%2F..%2F..%2Fetc%2Fpasswd'],
  ['windows path', 'C:\\Windows\\win.ini'],
  ['template mustache', '{{7*7}}'],
  ['template js', '${7*7}'],
  ['template erb', '<%= 7*7 %>'],
  ['template prototype', "{{constructor.constructor('return process')()}}"],
  ['html script', '<script>alert(1)</script>'],
  ['crlf', 'a\r\nX-Injected: 1'],
  ['format string', '%s%s%s%n'],
  ['nul byte', 'a\u0000b'],
  ['emoji', '🛒😀👩‍👩‍👧‍👦'],
  ['rtl override', '\u202Egnp.exe'],
  ['zero width', 'a\u200Bb\uFEFF'],
  ['combining marks', 'Z̷̧̛a̸l̴g̶o̵'],
  ['astral plane', '𝕳𝖊𝖑𝖑𝖔'],
  ['lone surrogate', 'a\uD800b'],
  ['big numeral', '99999999999999999999999999'],
  ['negative numeral', '-1'],
  ['js literals', 'undefined'],
  ['null word', 'null'],
  ['whitespace only', '   '],
  ['empty', ''],
];

const MASS_ASSIGNMENT = [
  'userId',
  'role',
  'status',
  'price',
  'id',
  'createdAt',
  'isAdmin',
  'amount',
  '__extra',
];

const WRONG_TYPES: Record<string, [string, Json][]> = {
  string: [
    ['number', 123],
    ['boolean', true],
    ['object', { a: 1 }],
    ['array', ['x']],
    ['nosql operator object', { $gt: '' }],
  ],
  number: [
    ['numeric string', '1'],
    ['string', 'abc'],
    ['boolean', true],
    ['object', {}],
    ['array', [1]],
  ],
  boolean: [
    ['string', 'true'],
    ['number', 1],
    ['object', {}],
    ['array', [true]],
  ],
  array: [
    ['string', 'x'],
    ['number', 1],
    ['object', { 0: 'x' }],
    ['array of numbers', [1]],
    ['array of nulls', [null]],
    ['nested arrays', [[]]],
  ],
  object: [
    ['string', 'x'],
    ['number', 1],
    ['array', []],
    ['boolean', true],
  ],
};

/** Every number in this API is a bounded non-negative integer (money in minor units, counts, sizes). */
const BAD_NUMBERS: [string, number][] = [
  ['negative', -1],
  ['float', 1.5],
  ['huge 1e21', 1e21],
  ['beyond 2^53', 2 ** 53 + 2],
  ['1e308', 1e308],
];

const MALFORMED_JSON: [string, string][] = [
  ['unterminated object', '{'],
  ['unterminated member', '{"a":'],
  ['unterminated array', '[1,'],
  ['truncated literal', 'nul'],
  ['single quotes', "{'a':1}"],
  ['trailing comma', '{"a":1,}'],
  ['NaN', '{"a":NaN}'],
  ['bad escape', '{"a":"\\x41"}'],
  ['control character', '{"a":"\u0001"}'],
  ['nul byte', '\u0000'],
  ['two documents', '{}{}'],
  ['comment', '{/* c */}'],
];

const NON_OBJECT_JSON: [string, string][] = [
  ['null', 'null'],
  ['array', '[]'],
  ['array of object', '[{}]'],
  ['string', '"x"'],
  ['number', '1'],
  ['boolean', 'true'],
];

const WRONG_CONTENT_TYPES: [string, string, string][] = [
  ['text/plain', 'text/plain', '{}'],
  ['form urlencoded', 'application/x-www-form-urlencoded', 'a=b&role=admin'],
  [
    'multipart',
    'multipart/form-data; boundary=x',
    '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
  ],
  [
    'xml',
    'application/xml',
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
  ],
  ['octet-stream', 'application/octet-stream', '\u0000\u0001\u0002'],
  ['made-up type', 'application/x-hostile', '{}'],
];

// ------------------------------------------------------------------------------------------------
// helpers

/** Percent-encodes every byte but unreserved ones (lone surrogates become U+FFFD, as on the wire). */
export function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function resolve(doc: OpenApiDoc, s: Schema | undefined): Schema {
  if (!s) return {};
  if (s.$ref) return resolve(doc, doc.components?.schemas?.[s.$ref.split('/').pop()!]);
  if (s.allOf?.length === 1) return resolve(doc, s.allOf[0]);
  return s;
}

function kindOf(s: Schema): string {
  if (s.enum) return 'enum';
  if (s.type === 'integer') return 'number';
  if (s.type) return s.type;
  return s.properties ? 'object' : 'string';
}

interface Field {
  path: Key[];
  schema: Schema;
  required: boolean;
}

/** The fields of a body schema, nested ones included (array elements through index 0). */
function fieldsOf(doc: OpenApiDoc, schema: Schema, at: Key[] = []): Field[] {
  const s = resolve(doc, schema);
  const out: Field[] = [];
  for (const [name, raw] of Object.entries(s.properties ?? {})) {
    const ps = resolve(doc, raw);
    const path = [...at, name];
    out.push({ path, schema: ps, required: !!s.required?.includes(name) });
    const items = ps.type === 'array' ? resolve(doc, ps.items) : undefined;
    if (items?.properties) out.push(...fieldsOf(doc, items, [...path, 0]));
    else if (ps.properties) out.push(...fieldsOf(doc, ps, path));
  }
  return out;
}

/** Objects (possibly nested in arrays) of a body schema, to add unknown fields to. */
function objectsOf(doc: OpenApiDoc, schema: Schema, at: Key[] = []): { path: Key[]; names: string[] }[] {
  const s = resolve(doc, schema);
  const out = [{ path: at, names: Object.keys(s.properties ?? {}) }];
  for (const [name, raw] of Object.entries(s.properties ?? {})) {
    const ps = resolve(doc, raw);
    const items = ps.type === 'array' ? resolve(doc, ps.items) : undefined;
    if (items?.properties) out.push(...objectsOf(doc, items, [...at, name, 0]));
  }
  return out;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

function withValue(base: Json, path: Key[], value: Json | undefined): Json {
  const root = clone(base) ?? {};
  let node: any = root;
  for (const k of path.slice(0, -1)) {
    node[k] ??= typeof k === 'number' ? [] : {};
    node = node[k];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return root;
}

const label = (path: Key[]) => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
const isByteString = (s: string) => /^[\x20-\x7e]*$/.test(s);

// ------------------------------------------------------------------------------------------------
// generation

export function operationsOf(doc: OpenApiDoc): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

export function generateCases(doc: OpenApiDoc, fixtures: Record<string, OperationFixture>): HostileCase[] {
  const cases: HostileCase[] = [];
  for (const op of operationsOf(doc)) {
    const fx = fixtures[op];
    if (!fx) throw new Error(`no fixture for ${op}: add a valid example request to the hostile-input suite`);
    const [method, template] = op.split(' ');
    const spec = doc.paths[template][method.toLowerCase()];
    const params = spec.parameters ?? [];
    const bodySchema: Schema | undefined = spec.requestBody?.content?.['application/json']?.schema;
    const hasBody = !!bodySchema || fx.rawBody !== undefined;

    const urlOf = (values: Record<string, string> = {}, query = '') =>
      template.replace(/\{(\w+)\}/g, (_, n: string) => pct(values[n] ?? fx.params?.[n] ?? '')) +
      (query ? `?${query}` : '');
    const add = (
      what: string,
      expect: Expectation,
      opts: {
        url?: string;
        body?: () => string | Buffer;
        contentType?: string;
        headers?: Record<string, string>;
        payload?: string;
      },
    ) => {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.body && opts.contentType !== '')
        headers['content-type'] = opts.contentType ?? 'application/json';
      cases.push({
        op,
        what,
        expect,
        method,
        url: opts.url ?? urlOf(),
        caller: fx.caller,
        headers,
        body: opts.body,
        payload: opts.payload,
      });
    };
    const validBody = fx.rawBody !== undefined ? () => fx.rawBody! : () => JSON.stringify(fx.body ?? {});
    const bodyOpt = hasBody ? { body: validBody } : {};

    // --- body fields -------------------------------------------------------------------------
    if (bodySchema) {
      const base = fx.body ?? {};
      const doomed = fx.doomed?.body ?? base;
      const doomedUrl = urlOf(fx.doomed?.params);
      const json = (v: Json) => () => JSON.stringify(v);
      for (const f of fieldsOf(doc, bodySchema)) {
        const at = `body${label(f.path)}`;
        const kind = kindOf(f.schema);
        const typeKey = kind === 'enum' ? 'string' : kind;
        for (const [name, v] of WRONG_TYPES[typeKey] ?? [])
          add(`${at}: ${name} instead of ${kind}`, 'reject', { body: json(withValue(base, f.path, v)) });
        if (f.required) {
          add(`${at}: missing`, 'reject', { body: json(withValue(base, f.path, undefined)) });
          add(`${at}: null`, 'reject', { body: json(withValue(base, f.path, null)) });
        } else {
          // null on an optional field may mean "absent": judged on the doomed request.
          add(`${at}: null (optional)`, 'survive', {
            url: doomedUrl,
            body: json(withValue(doomed, f.path, null)),
          });
        }
        if (kind === 'number')
          for (const [name, v] of BAD_NUMBERS)
            add(`${at}: ${name} number`, 'reject', { body: json(withValue(base, f.path, v)) });
        if (kind === 'string' || kind === 'enum') {
          add(`${at}: ${HUGE_STRING_CHARS} chars`, 'reject', {
            body: () => JSON.stringify(withValue(base, f.path, 'x'.repeat(HUGE_STRING_CHARS))),
          });
          const free = kind === 'string' && !f.schema.format;
          for (const [name, v] of CONTENT_STRINGS)
            add(`${at}: ${name}`, free ? 'survive' : 'reject', {
              url: free ? doomedUrl : undefined,
              body: json(withValue(free ? doomed : base, f.path, v)),
              payload: v,
            });
          if (kind === 'enum')
            add(`${at}: unknown enum value`, 'reject', { body: json(withValue(base, f.path, 'BOGUS')) });
        }
        if (kind === 'array') {
          const item = (getAt(base, f.path) as Json[] | undefined)?.[0] ?? 'x';
          add(`${at}: ${HUGE_ARRAY} elements`, 'reject', {
            body: () => JSON.stringify(withValue(base, f.path, Array(HUGE_ARRAY).fill(item))),
          });
        }
      }
      for (const o of objectsOf(doc, bodySchema)) {
        if (o.path.length && getAt(base, o.path) === undefined) continue;
        for (const name of MASS_ASSIGNMENT.filter((n) => !o.names.includes(n)))
          add(`body${label(o.path)}: unknown field ${name}`, 'reject', {
            body: json(withValue(base, [...o.path, name], name === 'role' ? 'admin' : 'x')),
          });
      }
      add('body: 10000 unknown fields', 'reject', {
        body: () =>
          JSON.stringify({
            ...(base as object),
            ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, i])),
          }),
      });
      const first = Object.keys(resolve(doc, bodySchema).properties ?? {})[0] ?? 'a';
      add(`body.${first}: nested ${DEEP} arrays deep`, 'reject', {
        // Last, so it replaces the valid value (JSON.parse keeps the last of duplicate keys).
        body: () => {
          const others = withValue(base, [first], undefined) as object;
          return JSON.stringify({ ...others, [first]: 0 }).replace(
            /0\}$/,
            `${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`,
          );
        },
      });
      const rest = JSON.stringify(base).slice(1);
      const joiner = rest === '}' ? '' : ',';
      add('body: __proto__ pollution', 'reject', {
        body: () => `{"__proto__":{"role":"admin","isAdmin":true}${joiner}${rest}`,
      });
      add('body: constructor.prototype pollution', 'reject', {
        body: () => `{"constructor":{"prototype":{"role":"admin"}}${joiner}${rest}`,
      });
    }

    // --- raw bodies: malformed JSON, wrong top-level types, content types, size ----------------
    if (hasBody) {
      for (const [name, raw] of MALFORMED_JSON)
        add(`raw body: malformed JSON (${name})`, 'reject', { body: () => raw });
      for (const [name, raw] of NON_OBJECT_JSON)
        add(`raw body: JSON ${name} instead of an object`, 'reject', { body: () => raw });
      add('raw body: empty with a JSON content type', 'reject', { body: () => '' });
      for (const [name, type, raw] of WRONG_CONTENT_TYPES)
        add(`content type: ${name}`, 'reject', { body: () => raw, contentType: type });
      add('content type: none, JSON body', 'reject', { body: validBody, contentType: '' });
      // Valid JSON but UTF-16 bytes: must not be misread as something else.
      add('content type: JSON in UTF-16', 'reject', {
        body: () => Buffer.from(validBody(), 'utf16le'),
        contentType: 'application/json; charset=utf-16',
      });
      add('raw body: 2 MiB (over the limit)', 'reject', {
        body: () => JSON.stringify({ ...(fx.body as object), pad: 'x'.repeat(2 * 1024 * 1024) }),
      });
    }

    // --- path parameters ----------------------------------------------------------------------
    for (const p of params.filter((x) => x.in === 'path')) {
      const values: [string, string][] = [
        ...CONTENT_STRINGS.filter(([, v]) => v.trim() !== ''),
        ['long', 'a'.repeat(LONG_PARAM)],
        ['just over 100 chars', 'b'.repeat(101)],
        ['nil uuid', '00000000-0000-0000-0000-000000000000'],
        ['unknown uuid v7', unknownUuid()],
        ['percent sign', '%'],
        ['dot', '.'],
        ['dot dot', '..'],
        ['slash', '/'],
        ['question mark', '?role=admin'],
        ['hash', '#'],
        ['exponent', '1e3'],
        ['zero', '0'],
      ];
      for (const [name, v] of values)
        add(`path ${p.name}: ${name}`, 'reject', { url: urlOf({ [p.name]: v }), payload: v, ...bodyOpt });
      add(`path ${p.name}: malformed percent-encoding`, 'reject', {
        url: urlOf({ [p.name]: 'RAW' }).replace('RAW', '%E0%A4%A'),
        ...bodyOpt,
      });
    }

    // --- query parameters ---------------------------------------------------------------------
    const queryParams = params.filter((x) => x.in === 'query');
    for (const p of queryParams) {
      const s = resolve(doc, p.schema);
      const kind = kindOf(s);
      const typed = kind !== 'string' || !!s.format;
      const q = (v: string) => `${p.name}=${pct(v)}`;
      const invalid: [string, string][] =
        kind === 'number'
          ? [
              ['letters', 'abc'],
              ['negative', '-1'],
              ['float', '1.5'],
              ['exponent', '1e3'],
              ['hex', '0x10'],
              ['huge', '99999999999999999999'],
              ['empty', ''],
              ['padded', ' 1'],
              ['Infinity', 'Infinity'],
              ['NaN', 'NaN'],
            ]
          : kind === 'boolean'
            ? [
                ['word', 'maybe'],
                ['digit', '1'],
                ['upper case', 'TRUE'],
              ]
            : kind === 'enum'
              ? [
                  ['unknown value', 'bogus'],
                  ['trailing space', `${String(s.enum![0])} `],
                  [
                    'lower case',
                    String(s.enum![0]).toLowerCase() === String(s.enum![0])
                      ? 'X'
                      : String(s.enum![0]).toLowerCase(),
                  ],
                ]
              : s.format === 'date-time'
                ? [
                    ['word', 'yesterday'],
                    ['impossible date', '2026-13-45T99:00:00Z'],
                    ['sentence', 'not a date'],
                  ]
                : [];
      for (const [name, v] of invalid)
        add(`query ${p.name}: ${name}`, 'reject', { url: urlOf({}, q(v)), payload: v });
      for (const [name, v] of CONTENT_STRINGS)
        add(`query ${p.name}: ${name}`, typed ? 'reject' : 'survive', { url: urlOf({}, q(v)), payload: v });
      add(`query ${p.name}: ${LONG_QUERY} chars`, 'reject', { url: urlOf({}, q('q'.repeat(LONG_QUERY))) });
      add(`query ${p.name}: repeated (array)`, 'reject', { url: urlOf({}, `${q('a')}&${q('b')}`) });
      add(`query ${p.name}: operator key`, 'reject', { url: urlOf({}, `${pct(`${p.name}[$ne]`)}=x`) });
    }
    if (queryParams.length) {
      add('query: unknown parameter', 'reject', { url: urlOf({}, '__extra=1') });
      add('query: mass assignment parameter', 'reject', { url: urlOf({}, 'role=admin&userId=x') });
    }

    // --- header parameters --------------------------------------------------------------------
    const seen = new Set<string>();
    for (const p of params.filter((x) => x.in === 'header')) {
      const name = p.name.toLowerCase();
      if (seen.has(name) || name === 'authorization') continue;
      seen.add(name);
      const body = fx.doomed?.body !== undefined ? () => JSON.stringify(fx.doomed!.body) : validBody;
      const url = urlOf(fx.doomed?.params);
      for (const [what, v] of CONTENT_STRINGS.filter(([, v]) => isByteString(v) && v !== ''))
        add(`header ${name}: ${what}`, 'survive', {
          url,
          body: hasBody ? body : undefined,
          headers: { [name]: v },
          payload: v,
        });
      add(`header ${name}: ${LONG_QUERY} chars`, 'reject', {
        url,
        body: hasBody ? body : undefined,
        headers: { [name]: 'h'.repeat(LONG_QUERY) },
      });
    }
  }
  return cases;
}

function getAt(v: Json, path: Key[]): Json | undefined {
  let node: any = v;
  for (const k of path) node = node?.[k];
  return node;
}

/** A well-formed UUIDv7 that names nothing. */
export function unknownUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ------------------------------------------------------------------------------------------------
// judging a response

/** Markers of a stack trace, SQL text or internals in a response. */
export const LEAK_MARKERS: RegExp[] = [
  /\bat [\w.<>]+ \(/, // a stack frame: "at Object.<anonymous> (/..."
  /\bat \/|\(\/\w+\//, // a frame without a function name, an absolute path in parentheses
  /\bER_[A-Z_]+\b/, // a MySQL error code (ORDER_NOT_FOUND does not match: no word boundary)
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/,
  /QueryFailedError|sqlMessage|sqlState|errno/,
  /node_modules|\/work\/|\bsrc\//,
  /\b(TypeError|ReferenceError|RangeError|URIError|SyntaxError)\b/,
  /Cannot read propert/,
];

const ERROR_KEYS = new Set(['statusCode', 'code', 'message', 'requestId', 'details']);

/** Problems with one response (empty when it is acceptable). */
export function judge(
  c: Pick<HostileCase, 'expect' | 'payload'>,
  res: { status: number; text: string; requestId: string | null },
): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  else if (c.expect === 'reject' && (res.status < 400 || res.status >= 500))
    problems.push(`accepted with ${res.status}`);
  if (res.status >= 400) {
    let body: any;
    try {
      body = JSON.parse(res.text);
    } catch {
      problems.push(`error body is not JSON: ${res.text.slice(0, 120)}`);
    }
    if (body !== undefined) {
      const keys = body && typeof body === 'object' ? Object.keys(body) : [];
      if (
        body?.statusCode !== res.status ||
        typeof body.code !== 'string' ||
        !/^[A-Z][A-Z0-9_]*$/.test(body.code) ||
        typeof body.message !== 'string' ||
        typeof body.requestId !== 'string' ||
        !body.requestId ||
        keys.some((k) => !ERROR_KEYS.has(k))
      )
        problems.push(`not the contract error shape: ${res.text.slice(0, 200)}`);
      else if (res.requestId !== body.requestId)
        problems.push('requestId differs from the x-request-id header');
    }
  }
  let text = res.text;
  if (c.payload) {
    for (const form of [c.payload, JSON.stringify(c.payload).slice(1, -1)])
      if (form) text = text.split(form).join('');
  }
  const leaks = LEAK_MARKERS.filter((m) => m.test(text));
  if (leaks.length) problems.push(`leaks ${leaks.join(' ')}: ${res.text.slice(0, 200)}`);
  return problems;
}
