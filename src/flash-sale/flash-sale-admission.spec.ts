import { PersistedRow, planAdmissions } from './flash-sale-admission';
import type { StreamEntry } from './flash-sale.store';

const entry = (userId: string, n: number, r = `${userId}-${n}-${Math.random()}`): StreamEntry => ({
  streamId: `${Date.now()}-0`,
  reservationId: r,
  userId,
  n,
});
const row = (userId: string, n: number, over: Partial<PersistedRow> = {}): PersistedRow => ({
  userId,
  n,
  status: 'CONFIRMED',
  rejectReason: null,
  returnedInRedis: false,
  ...over,
});

type AdmissionInput = Parameters<typeof planAdmissions>[0];
/** A sale of 10 units, 1 per user, nothing taken, no rows: each case states what differs. */
const admit = (input: Partial<AdmissionInput>) =>
  planAdmissions({
    quantity: 10,
    perUserLimit: 1,
    unitsTaken: 0,
    unitsReturned: 0,
    existing: [],
    entries: [],
    ...input,
  });

describe('planAdmissions (what a stream entry becomes, against the database)', () => {
  it('accepts every entry of a consistent Redis with its own number', () => {
    const plan = admit({
      quantity: 3,
      unitsTaken: 1,
      entries: [entry('a', 1), entry('b', 1)],
    });
    expect(plan.anomalies).toEqual([]);
    expect(plan.admissions.map((a) => [a.accepted, a.n])).toEqual([
      [true, 1],
      [true, 1],
    ]);
  });

  it('rejects a unit beyond the quantity (SOLD_OUT) and reports the anomaly', () => {
    const plan = admit({
      quantity: 2,
      unitsTaken: 2,
      entries: [entry('c', 1)],
    });
    expect(plan.admissions[0]).toMatchObject({ accepted: false, reason: 'SOLD_OUT' });
    expect(plan.anomalies).toHaveLength(1);
  });

  it('counts units Redis gave back (returned hash) as free again', () => {
    const plan = admit({
      quantity: 2,
      unitsTaken: 2,
      unitsReturned: 1,
      entries: [entry('c', 1), entry('d', 1)],
    });
    expect(plan.admissions.map((a) => a.accepted)).toEqual([true, false]);
  });

  it('gives a reused number the next free one; accepted when the user is under the limit', () => {
    const plan = admit({
      perUserLimit: 2,
      unitsTaken: 1,
      existing: [row('a', 1)],
      entries: [entry('a', 1)],
    });
    expect(plan.admissions[0]).toMatchObject({ accepted: true, n: 2 });
    expect(plan.anomalies[0]).toMatch(/handed out twice/);
  });

  it('rejects a second unit beyond the per-user limit (LIMIT_REACHED), numbered after the first', () => {
    const plan = admit({
      unitsTaken: 1,
      existing: [row('a', 1)],
      entries: [entry('a', 1)],
    });
    expect(plan.admissions[0]).toMatchObject({ accepted: false, reason: 'LIMIT_REACHED', n: 2 });
  });

  it('does not count a unit whose order Redis already gave back, nor a returned or rejected row', () => {
    const plan = admit({
      unitsTaken: 2,
      unitsReturned: 1,
      existing: [
        row('a', 1, { status: 'RETURNED' }),
        row('a', 2, { returnedInRedis: true }),
        row('a', 3, { status: 'REJECTED', rejectReason: 'SOLD_OUT' }),
      ],
      entries: [entry('a', 4)],
    });
    expect(plan.admissions[0]).toMatchObject({ accepted: true, n: 4 });
    expect(plan.anomalies).toEqual([]);
  });

  it('renumbers without an anomaly when the number is held by a LOST row', () => {
    const plan = admit({
      existing: [row('a', 1, { status: 'REJECTED', rejectReason: 'LOST' })],
      entries: [entry('a', 1)],
    });
    expect(plan.admissions[0]).toMatchObject({ accepted: true, n: 2 });
    expect(plan.anomalies).toEqual([]);
  });

  it('handles two entries of one batch with the same number (both stale)', () => {
    const plan = admit({
      perUserLimit: 3,
      entries: [entry('a', 1), entry('a', 1)],
    });
    expect(plan.admissions.map((a) => a.n)).toEqual([1, 2]);
    expect(plan.admissions.every((a) => a.accepted)).toBe(true);
    expect(plan.anomalies).toHaveLength(1);
  });
});
