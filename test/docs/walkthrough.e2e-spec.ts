import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp, startApp } from '../support/test-app';

/**
 * The copy-paste walkthroughs of the docs stay true: every fenced block tagged `bash walkthrough`
 * in them runs, in order and in one shell, against a real app (the demo catalog seeded, as after
 * `npm run up`), with only the address of `npm run up` replaced by this app's.
 */
const ROOT = join(__dirname, '..', '..');
const DOCS = ['docs/walkthrough.md'];

/** The `bash walkthrough` blocks of a markdown file, in order. */
export function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash walkthrough\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function runBash(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env: { ...process.env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.once('exit', (code) => resolve({ code, out }));
  });
}

describe('docs: the walkthroughs run as written', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      SEED_DEMO_DATA: 'true',
      ADMIN_EMAIL: 'admin@shop.local',
      ADMIN_PASSWORD: 'admin-password-change-me',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  for (const doc of DOCS) {
    it(`${doc}: every \`bash walkthrough\` block, in order, exits 0 (register → order → PAID, a flash sale, Bull Board)`, async () => {
      const blocks = walkthroughBlocks(readFileSync(join(ROOT, doc), 'utf8'));
      expect(blocks.length).toBeGreaterThanOrEqual(5);
      const script = blocks.join('\n').replaceAll('http://localhost:3000', t.url);
      expect(script).not.toContain('localhost:3000');
      const res = await runBash(script);
      expect({ code: res.code, out: res.out }).toEqual({ code: 0, out: expect.any(String) });
      // What the comments in the doc promise.
      expect(res.out).toMatch(/order [0-9a-f-]{36}: PAID/);
      expect(res.out).toMatch(/TSHIRT-/);
      expect(res.out).toContain('PENDING_PAYMENT');
      expect(res.out).toMatch(/^200$/m);
    }, 120_000);
  }
});
