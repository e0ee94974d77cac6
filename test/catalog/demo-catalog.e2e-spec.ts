import { DemoCatalogSeeder } from '../../src/catalog';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { InventoryService } from '../../src/inventory';
import { TestApp, http, startApp } from '../support/test-app';

describe('catalog: demo data seeding (SEED_DEMO_DATA)', () => {
  let apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  it('seeds categories, products and stock once, even with two instances booting at the same time', async () => {
    apps = await Promise.all([startApp({ SEED_DEMO_DATA: 'true' }), startApp({ SEED_DEMO_DATA: 'true' })]);
    const [a] = apps;
    const [{ n }] = await a.app
      .get(DbRouter)
      .primaryReader()
      .query(
        `SELECT COUNT(*) AS n FROM products WHERE slug IN ('organic-cotton-tshirt', 'merino-long-sleeve',
          'trail-running-shoes', 'wireless-headphones', 'portable-speaker', 'usb-c-charger')`,
      );
    expect(Number(n)).toBe(6);
    // Stock was set once: one 'initial' movement of 100 units. (Other suites of the run, such as the
    // docs walkthrough, may have bought demo products since, so the current level is checked against
    // the ledger rather than against 100.)
    const ledger = (await a.app
      .get(DbRouter)
      .primaryReader()
      .query(
        `SELECT reason, delta_on_hand AS onHand, delta_reserved AS reserved FROM inventory_movements WHERE sku = 'TSHIRT-M'`,
      )) as { reason: string; onHand: number; reserved: number }[];
    expect(ledger.filter((m) => m.reason === 'initial')).toEqual([
      { reason: 'initial', onHand: 100, reserved: 0 },
    ]);
    const sum = (k: 'onHand' | 'reserved') => ledger.reduce((n, m) => n + Number(m[k]), 0);
    expect(await a.app.get(InventoryService).get('TSHIRT-M')).toMatchObject({
      onHand: sum('onHand'),
      reserved: sum('reserved'),
    });
    expect(await a.app.get(DemoCatalogSeeder).seed()).toEqual({ categories: 0, products: 0 });
    const tree = await http('GET', a.api('/categories'));
    const apparel = tree.body.find((c: { slug: string }) => c.slug === 'apparel');
    expect(apparel.children.map((c: { slug: string }) => c.slug).sort()).toEqual([
      'apparel-shoes',
      'apparel-tshirts',
    ]);
  });
});
