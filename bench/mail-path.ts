/**
 * CPU per confirmation mail on the worker's SMTP path, A/B: `--path nodemailer` (the pooled
 * nodemailer transport MailTransport used before decision 0029, same options) or `--path pool`
 * (MailTransport today: the message built once as a Buffer, sent on a pool of SMTPConnections).
 * Each mail is rendered from the order-confirmation template and sent to the project's mail
 * catcher, started here as its own process, with 5 sends in flight (MailProcessor's concurrency).
 * Reports this process's and the sink's CPU per mail (µs) over `--n` mails after 300 warm-up ones.
 *
 *   npx ts-node --transpile-only bench/mail-path.ts --path pool --n 3000
 *   node --cpu-prof -r ts-node/register/transpile-only bench/mail-path.ts --path pool
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { AppConfig } from '../src/infra/config/app-config';
import { MailMessage, MailTemplatesService, MailTransport } from '../src/notifications/testing';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const PATH = arg('path', 'pool');
const N = Number(arg('n', '3000'));
const WARMUP = 300;
const CONCURRENCY = 5;
const PORT = Number(arg('port', '40425'));
const FROM = 'nest-commerce <no-reply@shop.local>';

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSec(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startSink(): Promise<{ pid: number; stop: () => void }> {
  const root = join(__dirname, '..');
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      'scripts/infra/mail-catcher.ts',
      '--smtp-port',
      String(PORT),
      '--web-port',
      String(PORT + 1),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('mail catcher: smtp://') && resolve());
    child.once('exit', (code) => reject(new Error(`mail catcher exited (${code})`)));
  });
  child.stdout!.resume();
  return { pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

type Send = (to: string, dedupeKey: string) => Promise<unknown>;

function sender(templates: MailTemplatesService): { send: Send; close: () => void } {
  const config = { mail: { smtpUrl: `smtp://127.0.0.1:${PORT}`, from: FROM } } as AppConfig;
  /** What MailProcessor hands the transport for one order confirmation. */
  const message = (to: string, dedupeKey: string): MailMessage => {
    const rendered = templates.render('order-confirmation', {
      name: 'Ada Lovelace',
      orderId: dedupeKey,
      items: [
        { sku: 'TEE-M', name: 'T-shirt M', quantity: 2, lineTotal: 5000, currency: 'EUR' },
        { sku: 'MUG-1', name: 'Mug', quantity: 1, lineTotal: 1250, currency: 'EUR' },
      ],
      total: { amount: 6250, currency: 'EUR' },
    });
    return {
      from: FROM,
      to,
      ...rendered,
      messageId: `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@shop.local>`,
      headers: { 'X-Mail-Template': 'order-confirmation' },
    };
  };
  if (PATH === 'nodemailer') {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: PORT,
      secure: false,
      pool: true,
      maxConnections: 3,
      maxMessages: 500,
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 15000,
    });
    return { send: (to, key) => t.sendMail(message(to, key)), close: () => t.close() };
  }
  const transport = new MailTransport(config);
  return {
    send: (to, key) => transport.send(message(to, key)),
    close: () => transport.onApplicationShutdown(),
  };
}

async function drive(send: Send, count: number, tag: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        await send(`buyer-${i}@bench.local`, `order-confirmation:${tag}-${i}`);
      }
    }),
  );
}

async function main(): Promise<void> {
  const sink = await startSink();
  const s = sender(new MailTemplatesService());
  try {
    await drive(s.send, WARMUP, 'warm');
    const sink0 = cpuSec(sink.pid);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await drive(s.send, N, 'run');
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => setTimeout(r, 300)); // the sink's last parses
    const sinkSec = cpuSec(sink.pid) - sink0;
    console.log(
      JSON.stringify({
        path: PATH,
        mails: N,
        clientUsPerMail: Math.round((cpu.user + cpu.system) / N),
        clientUserUs: Math.round(cpu.user / N),
        clientSysUs: Math.round(cpu.system / N),
        sinkUsPerMail: Math.round((sinkSec * 1e6) / N),
        mailsPerSec: Math.round(N / (wallMs / 1000)),
      }),
    );
  } finally {
    s.close();
    sink.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
