/**
 * Dev mail catcher: an SMTP server (no auth required, no TLS) that keeps the last N messages in
 * memory, plus a small web inbox / JSON API.
 *
 *   GET    /                       HTML inbox (auto-refreshing), click a row to view the message
 *   GET    /api/messages           JSON array, newest first: {id, from, to, subject, text, html, date, ...}
 *   GET    /api/messages/:id       one message
 *   GET    /api/messages/:id/html  the HTML body (served sandboxed)
 *   DELETE /api/messages           clear the inbox
 *   DELETE /api/messages/:id       delete one message
 *
 * Run as a server:  ts-node --transpile-only scripts/infra/mail-catcher.ts
 *                   (INFRA_SMTP_PORT=1025, INFRA_MAIL_WEB_PORT=1080; or --smtp-port/--web-port)
 * Use in-process:   const mc = new MailCatcher({ smtpPort: 0 }); await mc.start(); mc.smtpPort ...
 */
import { randomUUID } from 'crypto';
import { EventEmitter } from 'events';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { AddressObject, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  id: string;
  /** Plain address of the From header (envelope sender when absent). */
  from: string;
  /** Display form of the From header, e.g. `Shop <noreply@shop.local>`. */
  fromText: string;
  /** Plain addresses of the To header (envelope recipients when absent). */
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html: string | null;
  /** ISO 8601: the Date header, or the receive time when absent. */
  date: string;
  receivedAt: string;
  envelope: { from: string | null; to: string[] };
  headers: Record<string, string>;
  attachments: Array<{ filename: string | null; contentType: string; size: number }>;
  size: number;
}

export interface MailCatcherOptions {
  /** SMTP port on 127.0.0.1 (0 = any free port, see `smtpPort` after start). */
  smtpPort: number;
  /** Web inbox / API port; omitted = no web server. */
  webPort?: number;
  host?: string;
  /** Messages kept in memory (oldest dropped first); default 500. */
  maxMessages?: number;
  /**
   * The `.local/` folder of the checkout that started this catcher, served at `GET /api/owner`:
   * how `npm run infra:*` tells its own catcher from another checkout's on the same ports.
   */
  infraDir?: string;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  const list = Array.isArray(a) ? a : [a];
  const out: string[] = [];
  const walk = (vals: Array<{ address?: string; group?: Array<{ address?: string; group?: unknown }> }>) => {
    for (const v of vals) {
      if (v.address) out.push(v.address);
      if (Array.isArray(v.group)) walk(v.group as Array<{ address?: string }>);
    }
  };
  for (const o of list) walk(o.value);
  return out;
}

export class MailCatcher extends EventEmitter {
  /** Newest first. */
  readonly messages: CaughtMail[] = [];
  private smtp?: SMTPServer;
  private web?: http.Server;
  private readonly host: string;
  private readonly max: number;

  constructor(private readonly opts: MailCatcherOptions) {
    super();
    this.host = opts.host ?? '127.0.0.1';
    this.max = opts.maxMessages ?? 500;
  }

  /** Actual SMTP port (useful with smtpPort: 0). */
  get smtpPort(): number {
    const a = this.smtp?.server.address() as AddressInfo | null | undefined;
    return a?.port ?? this.opts.smtpPort;
  }

  get webPort(): number | undefined {
    const a = this.web?.address() as AddressInfo | null | undefined;
    return a?.port ?? this.opts.webPort;
  }

  async start(): Promise<void> {
    if (this.smtp) return;
    const smtp = new SMTPServer({
      secure: false,
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      banner: 'nest-commerce mail catcher',
      size: 25 * 1024 * 1024,
      logger: false,
      closeTimeout: 500,
      // clients configured with credentials are let in with any username/password
      onAuth: (auth, _session, cb) => cb(null, { user: auth.username || 'anonymous' }),
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (e) => cb(e));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            const err = new Error('Message exceeds the size limit') as Error & { responseCode: number };
            err.responseCode = 552;
            return cb(err);
          }
          const raw = Buffer.concat(chunks);
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          simpleParser(raw)
            .then((parsed) => {
              const now = new Date();
              const to = addresses(parsed.to);
              const fromList = addresses(parsed.from);
              const headers: Record<string, string> = {};
              for (const h of parsed.headerLines)
                headers[h.key] = h.line.slice(h.line.indexOf(':') + 1).trim();
              this.add({
                id: randomUUID(),
                from: fromList[0] ?? envelope.from ?? '',
                fromText: parsed.from?.text ?? envelope.from ?? '',
                to: to.length ? to : envelope.to,
                cc: addresses(parsed.cc),
                subject: parsed.subject ?? '',
                text: parsed.text ?? (typeof parsed.html === 'string' ? htmlToText(parsed.html) : ''),
                html: typeof parsed.html === 'string' ? parsed.html : null,
                date: (parsed.date && !isNaN(parsed.date.getTime()) ? parsed.date : now).toISOString(),
                receivedAt: now.toISOString(),
                envelope,
                headers,
                attachments: parsed.attachments.map((a) => ({
                  filename: a.filename ?? null,
                  contentType: a.contentType,
                  size: a.size,
                })),
                size: raw.length,
              });
              cb();
            })
            .catch((e: Error) => cb(e));
        });
      },
    });
    // A client dropping its connection (ECONNRESET) is routine for a mail sink: never crash on it.
    smtp.on('error', (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
    await new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject);
      smtp.listen(this.opts.smtpPort, this.host, () => {
        smtp.server.off('error', reject);
        resolve();
      });
    });
    this.smtp = smtp;
    if (this.opts.webPort !== undefined) {
      const web = http.createServer((req, res) => this.handle(req, res));
      try {
        await new Promise<void>((resolve, reject) => {
          web.once('error', reject);
          web.listen(this.opts.webPort, this.host, () => {
            web.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        await this.stop();
        throw e;
      }
      this.web = web;
    }
  }

  async stop(): Promise<void> {
    const smtp = this.smtp;
    const web = this.web;
    this.smtp = undefined;
    this.web = undefined;
    await Promise.all([
      smtp ? new Promise<void>((r) => smtp.close(() => r())) : undefined,
      web
        ? new Promise<void>((r) => {
            web.close(() => r());
            web.closeAllConnections();
          })
        : undefined,
    ]);
  }

  clear(): void {
    this.messages.length = 0;
  }

  /** Resolves with the newest message (already received or arriving later) matching predicate. */
  waitFor(predicate: (m: CaughtMail) => boolean, timeoutMs = 10_000): Promise<CaughtMail> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onMsg = (m: CaughtMail) => {
        let ok = false;
        try {
          ok = predicate(m);
        } catch (e) {
          cleanup();
          reject(e);
          return;
        }
        if (ok) {
          cleanup();
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `MailCatcher.waitFor: no matching message within ${timeoutMs} ms (${this.messages.length} received)`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('message', onMsg);
      };
      this.on('message', onMsg);
    });
  }

  private add(m: CaughtMail): void {
    this.messages.unshift(m);
    if (this.messages.length > this.max) this.messages.length = this.max;
    this.emit('message', m);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const json = (status: number, body: unknown) => {
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
      });
      res.end(JSON.stringify(body));
    };
    const m = /^\/api\/messages\/([^/]+)(\/html)?$/.exec(p);
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, DELETE',
          'access-control-allow-headers': '*',
        });
        return void res.end();
      }
      if (req.method === 'GET' && p === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(INBOX_HTML);
      }
      if (p === '/api/owner' && req.method === 'GET')
        return json(200, { infraDir: this.opts.infraDir ?? null });
      if (p === '/api/messages') {
        if (req.method === 'GET') return json(200, this.messages);
        if (req.method === 'DELETE') {
          this.clear();
          res.writeHead(204, { 'access-control-allow-origin': '*' });
          return void res.end();
        }
      }
      if (m) {
        const id = decodeURIComponent(m[1]);
        const idx = this.messages.findIndex((x) => x.id === id);
        if (idx < 0) return json(404, { error: 'not found' });
        const msg = this.messages[idx];
        if (req.method === 'GET' && m[2]) {
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': 'sandbox',
            'cache-control': 'no-store',
          });
          return void res.end(msg.html ?? `<pre>${escapeHtml(msg.text)}</pre>`);
        }
        if (req.method === 'GET') return json(200, msg);
        if (req.method === 'DELETE' && !m[2]) {
          this.messages.splice(idx, 1);
          res.writeHead(204, { 'access-control-allow-origin': '*' });
          return void res.end();
        }
      }
      json(p === '/' || p.startsWith('/api/messages') ? 405 : 404, { error: 'not found' });
    } catch (e) {
      json(500, { error: e instanceof Error ? e.message : String(e) });
    }
  }
}

/** Rough text of an HTML-only message (so `text` is searchable for links and codes). */
function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<a\s[^>]*href=["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>/gi, '$2 ($1)')
    .replace(/<br\s*\/?>|<\/(p|div|tr|h[1-6]|li)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const INBOX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nest-commerce mail catcher</title>
<style>
 body{font:14px system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh}
 header{padding:8px 12px;background:#222;color:#eee;display:flex;gap:12px;align-items:center}
 header h1{font-size:15px;margin:0;flex:1} button{cursor:pointer}
 main{display:flex;flex:1;min-height:0} #list{width:45%;overflow:auto;border-right:1px solid #ccc}
 table{border-collapse:collapse;width:100%} td,th{padding:5px 8px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:220px}
 tr.msg{cursor:pointer} tr.msg:hover{background:#f3f6ff} tr.sel{background:#dde6ff}
 #view{flex:1;display:flex;flex-direction:column;min-width:0} #meta{padding:8px 12px;border-bottom:1px solid #ccc}
 #meta div{margin:2px 0} #tabs{padding:4px 12px} #body{flex:1;border:0;width:100%} pre{white-space:pre-wrap;padding:12px;margin:0;overflow:auto;flex:1}
</style></head><body>
<header><h1>Mail catcher <span id="count"></span></h1><button id="clear">Clear all</button></header>
<main><div id="list"><table><thead><tr><th>From</th><th>To</th><th>Subject</th><th>Date</th></tr></thead><tbody id="rows"></tbody></table></div>
<div id="view"><div id="meta">Select a message.</div><div id="tabs"></div><iframe id="body" sandbox></iframe><pre id="text" hidden></pre></div></main>
<script>
let msgs=[],sel=null;
const esc=s=>String(s??'').replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
async function load(){
  try{msgs=await (await fetch('/api/messages')).json();}catch{return}
  document.getElementById('count').textContent='('+msgs.length+')';
  document.getElementById('rows').innerHTML=msgs.map(m=>'<tr class="msg'+(m.id===sel?' sel':'')+'" data-id="'+esc(m.id)+'"><td title="'+esc(m.fromText)+'">'+esc(m.fromText||m.from)+'</td><td>'+esc(m.to.join(', '))+'</td><td>'+esc(m.subject)+'</td><td>'+esc(new Date(m.date).toLocaleString())+'</td></tr>').join('');
}
function show(id,mode){
  const m=msgs.find(x=>x.id===id); if(!m) return; sel=id; mode=mode||(m.html?'html':'text');
  document.querySelectorAll('tr.msg').forEach(r=>r.classList.toggle('sel',r.dataset.id===id));
  document.getElementById('meta').innerHTML='<div><b>From:</b> '+esc(m.fromText||m.from)+'</div><div><b>To:</b> '+esc(m.to.join(', '))+'</div>'+(m.cc.length?'<div><b>Cc:</b> '+esc(m.cc.join(', '))+'</div>':'')+'<div><b>Subject:</b> '+esc(m.subject)+'</div><div><b>Date:</b> '+esc(m.date)+'</div>'+(m.attachments.length?'<div><b>Attachments:</b> '+m.attachments.map(a=>esc(a.filename||a.contentType)+' ('+a.size+' B)').join(', ')+'</div>':'');
  document.getElementById('tabs').innerHTML=(m.html?'<button data-mode="html">HTML</button> ':'')+'<button data-mode="text">Text</button> <button data-mode="json">JSON</button>';
  const frame=document.getElementById('body'),pre=document.getElementById('text');
  frame.hidden=mode!=='html'; pre.hidden=mode==='html';
  if(mode==='html') frame.src='/api/messages/'+encodeURIComponent(id)+'/html';
  else pre.textContent=mode==='json'?JSON.stringify(m,null,2):m.text;
}
document.getElementById('rows').onclick=e=>{const r=e.target.closest('tr.msg'); if(r) show(r.dataset.id)};
document.getElementById('tabs').onclick=e=>{const b=e.target.closest('button'); if(b&&sel) show(sel,b.dataset.mode)};
document.getElementById('clear').onclick=async()=>{await fetch('/api/messages',{method:'DELETE'}); sel=null; document.getElementById('meta').textContent='Select a message.'; document.getElementById('tabs').innerHTML=''; load()};
load(); setInterval(load,3000);
</script></body></html>`;

function argValue(name: string): string | undefined {
  const i = process.argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = process.argv[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1];
}

if (require.main === module) {
  const smtpPort = Number(argValue('--smtp-port') ?? process.env.INFRA_SMTP_PORT ?? 1025);
  const webPort = Number(argValue('--web-port') ?? process.env.INFRA_MAIL_WEB_PORT ?? 1080);
  const mc = new MailCatcher({ smtpPort, webPort, infraDir: argValue('--infra-dir') });
  mc.on('message', (m: CaughtMail) =>
    console.log(`${m.receivedAt} ${m.from} -> ${m.to.join(', ')}: ${m.subject}`),
  );
  mc.on('error', (e: Error) => console.error(`smtp error: ${e.message}`));
  mc.start().then(
    () =>
      console.log(
        `mail catcher: smtp://127.0.0.1:${mc.smtpPort}  http://127.0.0.1:${mc.webPort}  (pid ${process.pid})`,
      ),
    (e: Error) => {
      console.error(`mail catcher failed to start: ${e.message}`);
      process.exit(1);
    },
  );
  const shutdown = (sig: string) => {
    console.log(`mail catcher: ${sig}, stopping`);
    setTimeout(() => process.exit(0), 3000).unref();
    mc.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(`mail catcher: stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
