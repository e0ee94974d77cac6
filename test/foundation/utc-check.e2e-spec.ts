import { Logger } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { TestApp, startApp } from '../support/test-app';

/**
 * The boot check of the primary's time zone runs on the engine the tests use (MariaDB locally:
 * `offset` is a reserved word there, and the check used to fail with a syntax error at every
 * boot, so its warning could never fire).
 */
describe('the primary time-zone check at boot', () => {
  let t: TestApp;
  let warn: jest.SpyInstance;
  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    // One connection: a session time zone set below is the one the check then reads.
    t = await startApp({ DB_POOL_SIZE: '1' });
  });
  afterAll(async () => {
    warn.mockRestore();
    await t?.close();
  });

  const timeZoneWarnings = () => warn.mock.calls.map((c) => String(c[0])).filter((m) => /time zone/.test(m));

  it('says nothing on a UTC primary (no "not checked" error either)', () => {
    expect(timeZoneWarnings()).toEqual([]);
  });

  it('warns with the offset when the primary is not on UTC', async () => {
    const router = t.app.get(DbRouter);
    const primary = t.app.get<DataSource>(getDataSourceToken());
    await primary.query("SET SESSION time_zone = '+02:00'");
    try {
      warn.mockClear();
      await (router as unknown as { warnUnlessUtc(): Promise<void> }).warnUnlessUtc();
      expect(timeZoneWarnings()).toEqual([
        expect.stringContaining("the primary's time zone is +02:00 (UTC+120 min)"),
      ]);
    } finally {
      await primary.query("SET SESSION time_zone = '+00:00'");
    }
  });
});
