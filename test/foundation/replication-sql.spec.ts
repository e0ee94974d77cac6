import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The replication statements MySQL 8.4 removed (8.4.0: START/STOP/RESET/SHOW SLAVE, SHOW MASTER
 * STATUS, RESET MASTER, CHANGE MASTER TO). MariaDB 10.11 accepts the REPLICA forms too, so code and
 * tests use those and run on both engines. CHANGE MASTER TO is MariaDB's only form of that
 * statement: the local infrastructure's MariaDB branch is the one place allowed to use it.
 */
const ROOT = join(__dirname, '..', '..');
const REMOVED_IN_MYSQL_84 =
  /\b(?:(?:START|STOP|RESET)\s+SLAVE|SHOW\s+SLAVE\s+(?:STATUS|HOSTS)|SHOW\s+MASTER\s+STATUS|RESET\s+MASTER|CHANGE\s+MASTER\s+TO)\b/gi;
const ALLOWED: Record<string, RegExp> = {
  'scripts/infra/local-infra.ts': /^CHANGE\s+MASTER\s+TO$/i,
};

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|js|sql|sh|cnf|ya?ml)$/.test(entry)) yield path;
  }
}

describe('replication SQL runs on MySQL 8.4 and MariaDB 10.11', () => {
  it('no statement MySQL 8.4 removed appears in src/, test/, scripts/, bench/ or deploy/ (but MariaDB-only CHANGE MASTER TO in the local infrastructure)', () => {
    const offenders: string[] = [];
    let scanned = 0;
    for (const top of ['src', 'test', 'scripts', 'bench', 'deploy']) {
      for (const file of sources(join(ROOT, top))) {
        const rel = relative(ROOT, file);
        if (file === __filename) continue;
        scanned++;
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(REMOVED_IN_MYSQL_84)) {
          if (ALLOWED[rel]?.test(m[0])) continue;
          const line = text.slice(0, m.index).split('\n').length;
          offenders.push(`${rel}:${line}: ${m[0]}`);
        }
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});
