import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const NEST = require.resolve('@nestjs/cli/bin/nest.js');
const PRETTIER = require.resolve('prettier/bin/prettier.cjs');
const run = promisify(execFile);

/**
 * `nest g` goes through this repository's schematics collection (nest-cli.json "collection":
 * schematics/), which runs @nestjs/schematics and then Prettier over what it wrote: the
 * schematics alone write `@Module({ ... })` metadata without trailing commas, which
 * `npm run lint` rejects. Run in a scratch project holding the repository's nest-cli.json and
 * Prettier config and an app.module.ts shaped like ours.
 */
describe('nest g (module, service, controller) with the repository collection', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nc-nest-g-'));
    for (const f of ['nest-cli.json', '.prettierrc', '.prettierignore'])
      copyFileSync(join(ROOT, f), join(dir, f));
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'src', 'app.module.ts'),
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AppModule {}\n",
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes files Prettier accepts with the project config, and wires the module into AppModule', async () => {
    const out: string[] = [];
    for (const kind of ['module', 'service', 'controller']) {
      const res = await run(process.execPath, [NEST, 'g', kind, 'reviews'], {
        cwd: dir,
        timeout: 120_000,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      });
      out.push(res.stdout);
    }
    expect(out.join('')).toMatch(/CREATE src\/reviews\/reviews\.controller\.ts/);

    const files = [
      'src/app.module.ts',
      ...readdirSync(join(dir, 'src', 'reviews')).map((f) => `src/reviews/${f}`),
    ];
    expect(files.sort()).toEqual([
      'src/app.module.ts',
      'src/reviews/reviews.controller.spec.ts',
      'src/reviews/reviews.controller.ts',
      'src/reviews/reviews.module.ts',
      'src/reviews/reviews.service.spec.ts',
      'src/reviews/reviews.service.ts',
    ]);
    // What `npm run lint` runs (Prettier 3 cannot be imported under jest's CommonJS runtime); exits 1 on any unformatted file.
    const check = await run(process.execPath, [PRETTIER, '--check', 'src/**/*.ts'], { cwd: dir }).then(
      (res) => ({ code: 0, ...res }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect({ code: check.code, out: `${check.stdout}${check.stderr}`.trim() }).toEqual({
      code: 0,
      out: 'Checking formatting...\nAll matched files use Prettier code style!',
    });
    expect(readFileSync(join(dir, 'src', 'app.module.ts'), 'utf8')).toContain(
      '@Module({\n  imports: [ReviewsModule],\n})',
    );
    expect(readFileSync(join(dir, 'src', 'reviews', 'reviews.module.ts'), 'utf8')).toContain(
      '  providers: [ReviewsService],\n  controllers: [ReviewsController],\n})',
    );
  });
});
