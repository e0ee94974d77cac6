import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** dist/main.js exists and is newer than every file under src/ (the build would change nothing). */
export function distIsCurrent(root: string): boolean {
  const main = join(root, 'dist', 'main.js');
  if (!existsSync(main)) return false;
  const built = statSync(main).mtimeMs;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  return newest(join(root, 'src')) < built;
}

/** Builds `root` (npm run build) unless its dist/ is current: measurements run the app as shipped, compiled. */
export function ensureBuilt(root: string, log: (line: string) => void = console.log): void {
  if (distIsCurrent(root)) log('dist/ is newer than src/: not rebuilding');
  else {
    log('building (npm run build)...');
    execSync('npm run build', { cwd: root, stdio: 'ignore' });
  }
}
