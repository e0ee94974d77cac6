import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';

export interface SmtpPoolOptions extends SMTPConnectionOptions {
  auth?: { user: string; pass: string };
  /** Connections kept open at most. */
  maxConnections: number;
  /** Messages per connection before it is closed and replaced. */
  maxMessages: number;
  /** Bound on one message's whole conversation (connect included) on top of the socket timeouts. */
  sendTimeout: number;
}

interface Conn {
  smtp: SMTPConnection;
  sent: number;
  dead: boolean;
}

/**
 * A few SMTP connections (nodemailer's SMTPConnection: TLS, STARTTLS, AUTH, PIPELINING of the
 * envelope), each carrying one message at a time, reused for `maxMessages` messages. A message
 * is sent only once the server answered 250 to its data; any error closes that connection (its
 * state is unknown) and rejects, and the next send opens a fresh one. A connection that the
 * server closes while idle is dropped from the pool.
 */
export class SmtpPool {
  private readonly idle: Conn[] = [];
  private readonly waiting: Array<{ resolve: (c: Conn) => void; reject: (e: unknown) => void }> = [];
  private open = 0;
  private closed = false;

  constructor(private readonly options: SmtpPoolOptions) {}

  async send(envelope: { from: string; to: string[] }, message: Buffer): Promise<SMTPConnectionSendInfo> {
    let conn: Conn | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        if (conn) this.discard(conn);
        const err = new Error(`SMTP: no answer within ${this.options.sendTimeout} ms`);
        reject(Object.assign(err, { code: 'ETIMEDOUT' }));
      }, this.options.sendTimeout);
    });
    try {
      const acquired = this.acquire().then((c) => {
        // Came after the timeout: unused, so it goes back to the pool.
        if (timedOut) this.release(c, false);
        return (conn = c);
      });
      acquired.catch(() => undefined);
      const c = await Promise.race([acquired, timeout]);
      const info = await Promise.race([
        new Promise<SMTPConnectionSendInfo>((resolve, reject) =>
          // A copy: SMTPConnection keeps its per-message bookkeeping on the envelope object.
          c.smtp.send({ from: envelope.from, to: [...envelope.to] }, message, (err, res) =>
            err ? reject(err) : resolve(res!),
          ),
        ),
        timeout,
      ]);
      this.release(c, true);
      return info;
    } catch (err) {
      if (conn) this.discard(conn);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the idle connections and every connection as it comes back; later sends fail. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('SMTP pool closed'));
    for (const c of this.idle.splice(0)) this.quit(c);
  }

  private acquire(): Promise<Conn> {
    if (this.closed) return Promise.reject(new Error('SMTP pool closed'));
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    if (this.open < this.options.maxConnections) return this.connect();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(c: Conn, used: boolean): void {
    if (c.dead) return;
    if ((used && ++c.sent >= this.options.maxMessages) || this.closed) return this.quit(c);
    const next = this.waiting.shift();
    if (next) next.resolve(c);
    else this.idle.push(c);
  }

  private discard(c: Conn): void {
    if (this.forget(c)) c.smtp.close();
  }

  /** QUIT (the connection closes on the reply); closed anyway after a second without one. */
  private quit(c: Conn): void {
    if (!this.forget(c)) return;
    c.smtp.quit();
    setTimeout(() => c.smtp.close(), 1000).unref();
  }

  /** Out of the pool (false when it already was); a sender waiting for a connection may open one. */
  private forget(c: Conn): boolean {
    if (c.dead) return false;
    c.dead = true;
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = !this.closed && this.waiting.shift();
    if (next) this.connect().then(next.resolve, next.reject);
    return true;
  }

  private connect(): Promise<Conn> {
    this.open++;
    const { auth, maxConnections: _m, maxMessages: _n, sendTimeout: _t, ...options } = this.options;
    const c: Conn = { smtp: new SMTPConnection(options), sent: 0, dead: false };
    return new Promise<Conn>((resolve, reject) => {
      let ready = false;
      const fail = (err: unknown) => {
        if (!ready) reject(err); // first: closing emits 'end', which comes here again
        this.discard(c);
      };
      // Errors (the send in flight gets the same error) and closes by the server or the network
      // take the connection out of the pool; before it is ready they fail the connect.
      c.smtp.on('error', fail);
      c.smtp.once('end', () => fail(new Error('SMTP connection closed')));
      const done = () => {
        ready = true;
        resolve(c);
      };
      c.smtp.connect(() => {
        if (!auth) return done();
        c.smtp.login(auth, (err) => (err ? fail(err) : done()));
      });
    });
  }
}
