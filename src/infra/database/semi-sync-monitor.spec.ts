import { parseSemiSyncStatus } from './semi-sync-monitor';

const row = (Variable_name: string, Value: string) => ({ Variable_name, Value });

describe('parseSemiSyncStatus (MariaDB built-in and MySQL 8.4 semisync_source names)', () => {
  it.each`
    server         | side        | status   | unacknowledgedCommits | replicasConnected | state
    ${'MariaDB'}   | ${'master'} | ${'ON'}  | ${3}                  | ${1}              | ${'active'}
    ${'MySQL 8.4'} | ${'source'} | ${'OFF'} | ${12}                 | ${0}              | ${'fallen-back'}
  `(
    '$server (Rpl_semi_sync_$side names): $state while the status is $status and the source side is enabled',
    ({ side, status, unacknowledgedCommits, replicasConnected, state }) => {
      const rows = [
        row(`Rpl_semi_sync_${side}_status`, status),
        row(`Rpl_semi_sync_${side}_no_tx`, String(unacknowledgedCommits)),
        row(`Rpl_semi_sync_${side}_clients`, String(replicasConnected)),
      ];
      expect(parseSemiSyncStatus(rows, true)).toEqual({ state, unacknowledgedCommits, replicasConnected });
    },
  );

  it('off when not enabled, or when the server has no semi-sync status at all (plugin not loaded)', () => {
    expect(parseSemiSyncStatus([row('Rpl_semi_sync_master_status', 'OFF')], false).state).toBe('off');
    expect(parseSemiSyncStatus([], true)).toEqual({
      state: 'off',
      unacknowledgedCommits: null,
      replicasConnected: null,
    });
  });
});
