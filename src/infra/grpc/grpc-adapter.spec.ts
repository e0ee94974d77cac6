import type { Metadata } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { IsInt, Min } from 'class-validator';
import { AUTH_USER_KEY } from '../../common/auth';
import { grpcDto, grpcId, grpcTimestamp, grpcUnary } from './grpc-adapter';

const user = { id: 'u1', role: 'customer' as const };
const withUser = () => ({ [AUTH_USER_KEY]: user }) as unknown as Metadata;
const alive = { cancelled: false, getDeadline: () => Infinity };

class Line {
  @IsInt()
  @Min(1)
  quantity!: number;
}

describe('grpcUnary', () => {
  it('runs the call for an authenticated caller with valid arguments and a live client', async () => {
    const run = jest.fn(async (id: string) => `ran ${id}`);
    await expect(grpcUnary(withUser(), alive, () => 'x', run)).resolves.toBe('ran x');
    expect(run).toHaveBeenCalledWith('x', user);
  });

  it('refuses a caller the guard left no user for, before reading the arguments', async () => {
    const args = jest.fn(() => 'x');
    await expect(grpcUnary({} as Metadata, alive, args, jest.fn())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(args).not.toHaveBeenCalled();
  });

  it.each([
    ['its deadline passed', { cancelled: false, getDeadline: () => Date.now() - 1 }],
    [
      'its deadline is now (grpc-timeout rounded to 0 ms)',
      { cancelled: false, getDeadline: () => Date.now() },
    ],
    ['the client cancelled', { cancelled: true, getDeadline: () => Infinity }],
    ['its deadline passed (a Date)', { cancelled: false, getDeadline: () => new Date(Date.now() - 1) }],
  ])('starts nothing when %s: DEADLINE_EXCEEDED', async (_case, call) => {
    const run = jest.fn();
    await expect(grpcUnary(withUser(), call, () => 'x', run)).rejects.toMatchObject({
      error: { code: status.DEADLINE_EXCEEDED },
    });
    expect(run).not.toHaveBeenCalled();
  });

  it('answers INVALID_ARGUMENT before the deadline check (bad input is the caller’s to fix)', async () => {
    const dead = { cancelled: true, getDeadline: () => 0 };
    await expect(grpcUnary(withUser(), dead, () => grpcId('id', 'nope'), jest.fn())).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'id: must be an id (UUID)',
    });
  });
});

describe('grpcId, grpcDto, grpcTimestamp', () => {
  it('takes a UUID in any case and answers it in lower case', () => {
    expect(grpcId('id', '01936F0E-0000-7000-8000-00000000000A', 'an order id')).toBe(
      '01936f0e-0000-7000-8000-00000000000a',
    );
    expect(() => grpcId('order_id', 42, 'an order id')).toThrow('order_id: must be an order id (UUID)');
  });

  it('validates a message with the REST DTO rules and error shape, refusing unknown fields', async () => {
    await expect(grpcDto(Line, { quantity: 2 })).resolves.toEqual(Object.assign(new Line(), { quantity: 2 }));
    await expect(grpcDto(Line, { quantity: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'quantity: quantity must not be less than 1',
      details: [{ field: 'quantity', errors: ['quantity must not be less than 1'] }],
    });
    await expect(grpcDto(Line, { quantity: 1, price: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('writes google.protobuf.Timestamp from a Date, epoch ms or ISO string', () => {
    const t = { seconds: 1_796_000_000, nanos: 123_000_000 };
    expect(grpcTimestamp(new Date(1_796_000_000_123))).toEqual(t);
    expect(grpcTimestamp(1_796_000_000_123)).toEqual(t);
    expect(grpcTimestamp(new Date(1_796_000_000_123).toISOString())).toEqual(t);
    expect(grpcTimestamp(-1)).toEqual({ seconds: -1, nanos: 999_000_000 });
  });
});
