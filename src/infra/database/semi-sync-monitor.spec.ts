import { parseSemiSyncStatus } from './semi-sync-monitor';

const row = (Variable_name: string, Value: string) => ({ Variable_name, Value });

describe('parseSemiSyncStatus (MariaDB built-in and MySQL 8.4 semisync_source names)', () => {
  it('MariaDB: active while Rpl_semi_sync_master_status is ON', () => {
    const rows = [
      row('Rpl_semi_sync_master_status', 'ON'),
      row('Rpl_semi_sync_master_no_tx', '3'),
      row('Rpl_semi_sync_master_clients', '1'),
    ];
    expect(parseSemiSyncStatus(rows, true)).toEqual({
      state: 'active',
      unacknowledgedCommits: 3,
      replicasConnected: 1,
    });
  });

  it('MySQL 8.4: fallen back while Rpl_semi_sync_source_status is OFF but the source side is enabled', () => {
    const rows = [
      row('Rpl_semi_sync_source_status', 'OFF'),
      row('Rpl_semi_sync_source_no_tx', '12'),
      row('Rpl_semi_sync_source_clients', '0'),
    ];
    expect(parseSemiSyncStatus(rows, true)).toEqual({
      state: 'fallen-back',
      unacknowledgedCommits: 12,
      replicasConnected: 0,
    });
  });

  it('off when not enabled, or when the server has no semi-sync status at all (plugin not loaded)', () => {
    expect(parseSemiSyncStatus([row('Rpl_semi_sync_master_status', 'OFF')], false).state).toBe('off');
    expect(parseSemiSyncStatus([], true)).toEqual({
      state: 'off',
      unacknowledgedCommits: null,
      replicasConnected: null,
    });
  });
});
