import { Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailTemplate, MailTemplates } from './mail.types';

const SUBJECTS: Record<MailTemplate, string> = {
  welcome: 'Welcome to nest-commerce, {{name}}',
  'verify-email': 'Confirm your email address',
  'password-reset': 'Reset your nest-commerce password',
  'password-changed': 'Your nest-commerce password was changed',
  // Sent when the order is placed, before it is paid: a receipt of the order, not a confirmation of it.
  'order-confirmation': 'We received your order {{orderId}}',
  'payment-receipt': 'Payment received for order {{orderId}}',
  'low-stock': 'Low stock: {{sku}} ({{available}} left)',
};

/** One formatter per currency: building an Intl.NumberFormat costs far more than using one. */
const formatters = new Map<string, { fmt: Intl.NumberFormat; scale: number } | null>();

function formatterFor(currency: string): { fmt: Intl.NumberFormat; scale: number } | null {
  let f = formatters.get(currency);
  if (f === undefined) {
    try {
      const fmt = new Intl.NumberFormat('en', { style: 'currency', currency });
      f = { fmt, scale: 10 ** (fmt.resolvedOptions().maximumFractionDigits ?? 2) };
    } catch {
      f = null;
    }
    // Codes come from our own orders (ISO 4217, validated); the bound only guards against misuse.
    if (formatters.size < 500) formatters.set(currency, f);
  }
  return f;
}

/** `{{money amountMinor currency}}` → "€12.34": minor units with the currency's own decimals. */
function money(amount: unknown, currency: unknown): string {
  if (typeof amount !== 'number' || typeof currency !== 'string') return '';
  const f = formatterFor(currency);
  return f ? f.fmt.format(amount / f.scale) : `${amount} ${currency}`;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

/**
 * Handlebars templates (`templates/<name>.html.hbs` and `.text.hbs`, copied to dist by the
 * nest-cli assets rule), compiled once at start so a missing file stops the boot, not a mail.
 */
@Injectable()
export class MailTemplatesService {
  private readonly hbs = Handlebars.create();
  private readonly compiled = new Map<
    MailTemplate,
    {
      subject: HandlebarsTemplateDelegate;
      html: HandlebarsTemplateDelegate;
      text: HandlebarsTemplateDelegate;
    }
  >();

  constructor() {
    this.hbs.registerHelper('money', money);
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    const dir = join(__dirname, 'templates');
    for (const name of Object.keys(SUBJECTS) as MailTemplate[]) {
      const read = (kind: string) => readFileSync(join(dir, `${name}.${kind}.hbs`), 'utf8');
      this.compiled.set(name, {
        subject: this.hbs.compile(SUBJECTS[name], { noEscape: true, strict: true }),
        html: this.hbs.compile(read('html'), { strict: false }),
        text: this.hbs.compile(read('text'), { noEscape: true, strict: false }),
      });
    }
  }

  render<T extends MailTemplate>(template: T, data: MailTemplates[T]): RenderedMail {
    const t = this.compiled.get(template);
    if (!t) throw new Error(`unknown mail template ${template}`);
    return {
      subject: t.subject(data).replace(/[\r\n]+/g, ' '),
      html: t.html(data),
      text: t.text(data),
    };
  }
}
