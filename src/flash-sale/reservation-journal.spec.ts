import { ReservationJournal } from './reservation-journal';

describe('ReservationJournal (the 202s of this process, for after Redis lost writes)', () => {
  const e = (id: string, epoch: number, at = 1000) => ({ reservationId: id, userId: 'u', epoch, at });

  it('takes the entries sold under older epochs and keeps the rest', () => {
    const j = new ReservationJournal();
    j.add('s', e('a', 0));
    j.add('s', e('b', 0));
    j.add('s', e('c', 2));
    expect(j.takeBefore('s', 2).map((x) => x.reservationId)).toEqual(['a', 'b']);
    expect(j.takeBefore('s', 2)).toEqual([]);
    expect(j.length).toBe(1);
    j.restore('s', [e('a', 0, 500)]);
    expect(j.takeBefore('s', 3).map((x) => x.reservationId)).toEqual(['a', 'c']);
  });

  it('says when a newer epoch is seen (a rebuild happened), not for the first nor for an older one', () => {
    const j = new ReservationJournal();
    expect(j.add('s', e('a', 3))).toBe(false);
    expect(j.add('s', e('b', 1))).toBe(false); // a restored Redis answers with an older epoch
    expect(j.seeEpoch('s', 4)).toBe(true);
    expect(j.seeEpoch('s', 4)).toBe(false);
  });

  it('is bounded by count and by age', () => {
    const j = new ReservationJournal(100, 60_000);
    for (let i = 0; i < 250; i++) j.add(i % 2 ? 's' : 't', e(String(i), 0, 1000 + i));
    expect(j.length).toBeLessThanOrEqual(100);
    j.add('s', e('late', 0, 1000 + 120_000));
    expect(j.length).toBe(1);
  });
});
