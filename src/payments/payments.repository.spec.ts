import type { DbRouter } from '../infra/database/db-router.service';
import { PAYMENT_STATUSES, sourcesOf } from './payment-state';
import { PaymentsRepository } from './payments.repository';

/** The status changes are conditional UPDATEs whose WHERE comes from payment-state.ts. */
describe('PaymentsRepository status changes', () => {
  const build = (affectedRows: number) => {
    const execute = jest.fn().mockResolvedValue({ affectedRows, insertId: 0 });
    return { repo: new PaymentsRepository({ execute } as unknown as DbRouter), execute };
  };

  it.each(PAYMENT_STATUSES.filter((s) => sourcesOf(s).length))(
    'moves a payment to %s only from its sources',
    async (to) => {
      const { repo, execute } = build(1);
      await expect(repo.transition('p1', to)).resolves.toBe(true);
      const [sql, params] = execute.mock.calls[0] as [string, unknown[]];
      expect(sql).toMatch(/^UPDATE payments SET status = \?.* WHERE id = \? AND status IN \(\?\)$/);
      expect(params).toEqual([to, 'p1', sourcesOf(to)]);
      // Giving up the order's slot happens in the same statement.
      expect(sql.includes('active_order_id = NULL')).toBe(to === 'FAILED' || to === 'CANCELLED');
    },
  );

  it('answers false when the row was not in a source status (another delivery won)', async () => {
    const { repo } = build(0);
    await expect(repo.transition('p1', 'FAILED')).resolves.toBe(false);
  });

  it('records a refund once, from PENDING, with its provider reference', async () => {
    const { repo, execute } = build(1);
    await repo.transitionRefund('r1', 'SUCCEEDED', 'sbx_re_r1');
    expect(execute).toHaveBeenCalledWith(
      'UPDATE refunds SET status = ?, provider_ref = ? WHERE id = ? AND status IN (?)',
      ['SUCCEEDED', 'sbx_re_r1', 'r1', ['PENDING']],
    );
    await repo.transitionRefund('r2', 'FAILED');
    expect(execute).toHaveBeenLastCalledWith('UPDATE refunds SET status = ? WHERE id = ? AND status IN (?)', [
      'FAILED',
      'r2',
      ['PENDING'],
    ]);
  });

  it('reserves refund money only on a refundable payment and within the captured amount', async () => {
    const { repo, execute } = build(1);
    await repo.reserveRefund('p1', 300);
    const [sql, params] = execute.mock.calls[0] as [string, unknown[]];
    expect(sql).toContain('status IN (?) AND refunded_minor + ? <= amount_minor');
    expect(params).toEqual([300, 'p1', ['SUCCEEDED', 'PARTIALLY_REFUNDED'], 300]);
  });

  it('moves only rows still PENDING to the back of the line, one statement, none for no ids', async () => {
    const { repo, execute } = build(2);
    await repo.postponePayments([]);
    expect(execute).not.toHaveBeenCalled();
    await repo.postponeRefunds(['r1', 'r2']);
    expect(execute).toHaveBeenCalledWith(
      "UPDATE refunds SET updated_at = NOW(3) WHERE id IN (?) AND status = 'PENDING'",
      [['r1', 'r2']],
    );
  });
});
