import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as semver from 'semver';

/**
 * The Node versions the project says it runs on (package.json `engines`, the README) are true for
 * every installed package: `npm ci` on the oldest supported release of each line prints no
 * EBADENGINE warning, and nothing in the tree needs a newer Node than the README promises.
 */
const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

/** The oldest release of each line the range admits (">=20.19 <21 || >=22.13 <23 || >=24" → 20.19.0, 22.13.0, 24.0.0). */
function oldestOfEachLine(range: string): string[] {
  return new semver.Range(range).set.map(
    (comparators) => semver.minVersion(comparators.map(String).join(' '))!.version,
  );
}

describe('supported Node versions', () => {
  const oldest = oldestOfEachLine(pkg.engines.node);

  it('package.json names a lower bound on every line it supports', () => {
    expect(oldest.length).toBeGreaterThan(0);
    expect(oldest.every((v) => semver.valid(v))).toBe(true);
  });

  it('every installed package accepts the oldest release of each supported line (no EBADENGINE at npm ci)', () => {
    const refused: string[] = [];
    for (const [where, p] of Object.entries(lock.packages)) {
      const node = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!where || !node) continue;
      for (const v of oldest)
        if (!semver.satisfies(v, node)) refused.push(`${where}@${p.version} needs node ${node}, not ${v}`);
    }
    expect(refused).toEqual([]);
  });

  it('the README says the same minimum as package.json', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const said = /Needs Node (\d+\.\d+)\+/.exec(readme)?.[1];
    expect(`${said}.0`).toBe(oldest[0]);
  });
});
