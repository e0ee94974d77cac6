import { randomBytes } from 'node:crypto';

/** A simple mail: one sender, one recipient, a text and an HTML alternative, no attachments. */
export interface MailMessage {
  /** `Name <address>` or a bare address. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With its angle brackets, e.g. `<abc@shop.local>`. */
  messageId: string;
  /** Extra ASCII headers, e.g. `X-Mail-Template`. */
  headers?: Record<string, string>;
  date?: Date;
}

const CRLF = '\r\n';
/** Printable ASCII, tab and line breaks: a part made of these goes as 7bit. */
const SEVEN_BIT = /^[\t\r\n\x20-\x7e]*$/;
/** Characters a display name can carry unquoted (RFC 5322 atext and spaces). */
const ATEXT_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;
/** A line no longer than RFC 5322's 998 characters. */
const LONG_LINE = /[^\r\n]{999}/;
const BOUNDARY_PREFIX = `=_nc_${randomBytes(6).toString('hex')}_`;
let boundaries = 0;

/** The plain address of `Name <address>` or of a bare address: the SMTP envelope's. */
export function addressOf(mailbox: string): string {
  const m = /<([^<>\s]+)>\s*$/.exec(mailbox);
  return (m ? m[1] : mailbox).trim();
}

/**
 * The message as it goes after SMTP's DATA: RFC 5322 headers (Date, Message-ID, MIME-Version,
 * From, To, Subject — non-ASCII words as RFC 2047 encoded-words — and the extra ones), then a
 * multipart/alternative body whose parts are 7bit when they are short-lined ASCII and base64 of
 * their UTF-8 otherwise. Line breaks are CRLF; dot-stuffing is the SMTP client's (SMTPConnection's
 * DataStream does it on the wire), not part of the message.
 */
export function buildMessage(m: MailMessage): Buffer {
  const boundary = `${BOUNDARY_PREFIX}${(boundaries = (boundaries + 1) % 0x7fffffff).toString(36)}`;
  const lines = [
    `Date: ${rfc5322Date(m.date ?? new Date())}`,
    `Message-ID: ${oneLine(m.messageId)}`,
    'MIME-Version: 1.0',
    header('From', mailboxHeader(m.from)),
    header('To', oneLine(m.to)),
    header('Subject', encodeWords(oneLine(m.subject))),
  ];
  for (const [name, value] of Object.entries(m.headers ?? {}))
    lines.push(header(name.replace(/[^\x21-\x39\x3b-\x7e]/g, ''), encodeWords(oneLine(value))));
  lines.push(
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    part('text/plain', m.text),
    `--${boundary}`,
    part('text/html', m.html),
    `--${boundary}--`,
    '',
  );
  return Buffer.from(lines.join(CRLF), 'utf8');
}

/** One body part: its headers, a blank line, its content (no trailing line break). */
function part(type: string, content: string): string {
  const crlf = content.replace(/\r\n|\r|\n/g, CRLF);
  if (SEVEN_BIT.test(crlf) && !LONG_LINE.test(crlf))
    return `Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${crlf}`;
  const b64 = Buffer.from(content, 'utf8').toString('base64');
  const wrapped: string[] = [];
  for (let i = 0; i < b64.length; i += 76) wrapped.push(b64.slice(i, i + 76));
  return `Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${wrapped.join(CRLF)}`;
}

/** `Name: value`, folded at spaces before 78 characters where it can be (RFC 5322 2.2.3). */
function header(name: string, value: string): string {
  let line = `${name}: `;
  let width = line.length;
  const out: string[] = [];
  for (const word of value.split(' ')) {
    if (width > name.length + 2 && width + 1 + word.length > 78) {
      out.push(line);
      line = ` ${word}`;
      width = line.length;
    } else {
      line += width > name.length + 2 ? ` ${word}` : word;
      width += (width > name.length + 2 ? 1 : 0) + word.length;
    }
  }
  out.push(line);
  return out.join(CRLF);
}

/** `Name <address>` with the name as an atom, a quoted string or encoded-words, as it needs. */
function mailboxHeader(mailbox: string): string {
  const m = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/.exec(oneLine(mailbox));
  if (!m) return oneLine(mailbox).trim();
  const [, rawName, address] = m;
  const name = rawName.replace(/^"(.*)"$/, '$1');
  if (!name) return `<${address}>`;
  if (ATEXT_PHRASE.test(name)) return `${name} <${address}>`;
  if (SEVEN_BIT.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`;
  return `${encodeWords(name, true)} <${address}>`;
}

/**
 * RFC 2047: the text as-is when it is ASCII, else base64 encoded-words of at most 45 UTF-8 bytes
 * each (75 characters with their markers), split between characters, separated by spaces.
 */
function encodeWords(text: string, always = false): string {
  if (!always && SEVEN_BIT.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > 45) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += ch;
    bytes += n;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** RFC 5322 3.3, in UTC: `Mon, 07 Dec 2026 05:24:21 +0000`. */
export function rfc5322Date(d: Date): string {
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}
