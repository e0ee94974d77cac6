import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as descriptor from 'protobufjs/ext/descriptor';
import { fileDescriptorProtos } from '../../src/infra/grpc/file-descriptors';
import { ORDERS_GRPC } from '../../src/orders';
import { PAYMENTS_GRPC } from '../../src/payments';
import { BUF } from '../support/buf';

const ROOT = join(__dirname, '..', '..');
const PROTO_DIRS = ['src/orders/proto', 'src/payments/proto'];

/** Runs buf (offline: no module here has remote dependencies). */
function buf(args: string[], cwd: string, input?: Buffer) {
  const res = spawnSync(process.execPath, [BUF, ...args], { cwd, input, maxBuffer: 16 << 20 });
  if (res.error) throw res.error;
  return { code: res.status, stdout: res.stdout, stderr: res.stderr.toString() };
}

/** What `npm run lint:proto` runs after `buf lint`: the workspace built, compared with the baseline. */
function breaking(cwd: string) {
  const image = buf(['build', '-o', '-#format=binpb'], cwd);
  if (image.code !== 0) throw new Error(image.stderr);
  const res = buf(['breaking', '-#format=binpb', '--against', 'buf.baseline.binpb'], cwd, image.stdout);
  return { code: res.code, out: `${res.stdout.toString()}${res.stderr}` };
}

describe('the published gRPC contract (buf)', () => {
  let dir: string;
  beforeEach(() => {
    // A copy of what buf reads, to try changes on.
    dir = mkdtempSync(join(tmpdir(), 'nc-proto-'));
    for (const f of ['buf.yaml', 'buf.baseline.binpb', ...PROTO_DIRS])
      cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (file: string, from: string, to: string) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
    writeFileSync(path, text.replace(from, to));
  };
  const ORDERS = 'src/orders/proto/shop/orders/v1/orders.proto';
  const PAYMENTS = 'src/payments/proto/shop/payments/v1/payments.proto';

  it('passes buf lint (STANDARD, with the two documented exceptions) and buf breaking as committed', () => {
    expect(buf(['lint'], dir)).toMatchObject({ code: 0, stderr: '' });
    expect(breaking(dir)).toEqual({ code: 0, out: '' });
  });

  it('buf breaking rejects a renumbered field, a renamed field, a removed rpc and a changed response type', () => {
    const cases: [string, string, string, RegExp][] = [
      [
        ORDERS,
        'string user_id = 2;',
        // 7-12 are the checkout fields (breakdown … tax_country): move to a free number.
        'string user_id = 20;',
        /field "2" with name "user_id" on message "Order" was deleted/,
      ],
      [
        ORDERS,
        'string user_id = 2;',
        'string owner_id = 2;',
        /Field "2" on message "Order" changed name from "user_id" to "owner_id"/,
      ],
      [
        ORDERS,
        '  rpc CancelOrder(CancelOrderRequest) returns (Order);\n',
        '',
        /RPC "CancelOrder" on service "OrderService" was deleted/,
      ],
      [
        PAYMENTS,
        'rpc GetPayment(GetPaymentRequest) returns (Payment);',
        'rpc GetPayment(GetPaymentRequest) returns (CreatePaymentRequest);',
        /changed response type/,
      ],
    ];
    for (const [file, from, to, finding] of cases) {
      cpSync(join(ROOT, file), join(dir, file));
      edit(file, from, to);
      const res = breaking(dir);
      expect(res.code).not.toBe(0);
      expect(res.out).toMatch(finding);
    }
  });

  it('lets the contract grow: a new field, enum value, message and rpc are not breaking', () => {
    edit(ORDERS, '  string tax_country = 12;\n', '  string tax_country = 12;\n  string note = 13;\n');
    edit(
      ORDERS,
      '  ORDER_STATUS_REFUNDED = 6;\n',
      '  ORDER_STATUS_REFUNDED = 6;\n  ORDER_STATUS_ON_HOLD = 7;\n',
    );
    edit(
      ORDERS,
      'message WatchOrderRequest {',
      'message PingRequest {}\nmessage PingResponse {}\n\nmessage WatchOrderRequest {',
    );
    edit(ORDERS, '  rpc WatchOrder(', '  rpc Ping(PingRequest) returns (PingResponse);\n  rpc WatchOrder(');
    expect(breaking(dir)).toEqual({ code: 0, out: '' });
  });
});

describe('the descriptors server reflection serves', () => {
  /** Descriptor objects without what protoc adds for code generators only (json_name, file options). */
  const normalize = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(normalize);
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k]) => k !== 'jsonName' && k !== 'options' && k !== 'sourceCodeInfo')
          .map(([k, v]) => [k, normalize(v)]),
      );
    return value;
  };
  const toObject = (bytes: Uint8Array) =>
    normalize(
      descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes), {
        arrays: false,
      }),
    );

  it('are what buf compiles from the same files: names, imports, messages, enums, services', () => {
    const compiled = buf(
      ['build', '--exclude-source-info', '--as-file-descriptor-set', '-o', '-#format=binpb'],
      ROOT,
    );
    expect(compiled.code).toBe(0);
    const set = descriptor.FileDescriptorSet.toObject(
      descriptor.FileDescriptorSet.decode(compiled.stdout),
    ) as {
      file: object[];
    };
    const expected = new Map(set.file.map((f) => [(f as { name: string }).name, normalize(f)]));

    const served = fileDescriptorProtos(
      [ORDERS_GRPC, PAYMENTS_GRPC].map((g) => ({ name: g.protoPath, path: join(g.includeDir, g.protoPath) })),
    ).map(toObject);
    expect(served.map((f) => (f as { name: string }).name).sort()).toEqual([...expected.keys()].sort());
    for (const file of served) expect(file).toEqual(expected.get((file as { name: string }).name));
  });
});
