import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Job, Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../infra/config/app-config';
import { QUEUES } from '../../infra/queue/queues';
import { WorkerRegistry, traced } from '../../infra/queue/worker-registry.service';
import type { WebhookEvent } from '../payment-provider';
import { PaymentNotPendingError } from '../payments.errors';
import { signWebhook } from '../webhook-signature';
import { SandboxFault, SandboxLedger } from './sandbox-ledger';

/** Stripe's test cards: one always succeeds, one is always declined. */
export const SANDBOX_CARDS = { success: '4242424242424242', declined: '4000000000000002' } as const;

export class UnknownTestCardError extends DomainError {
  constructor() {
    super(
      'unprocessable',
      'UNKNOWN_TEST_CARD',
      `The sandbox accepts ${SANDBOX_CARDS.success} (succeeds) or ${SANDBOX_CARDS.declined} (declined)`,
    );
  }
}

interface DeliveryJob {
  event: WebhookEvent;
  /** A redelivery of an event already delivered (the sandbox duplicates on purpose). */
  duplicate?: boolean;
  requestId?: string;
}

const DELIVER = 'deliver-webhook';

/**
 * The sandbox PSP's own machinery: it "charges" the card on confirm (in its own books, see
 * SandboxLedger) and tells us the result the way real PSPs do — later, over HTTP, signed, retried
 * with exponential backoff until a 2xx, and sometimes twice (SANDBOX_DUPLICATE_PERCENT; the two
 * deliveries race each other). Delivery jobs run on the `payments` queue. A delivery that never
 * gets a 2xx is given up after SANDBOX_WEBHOOK_ATTEMPTS; the shop's reconciliation then asks the
 * PSP for the payment's state (PaymentProvider.retrievePayment), as it would with a real PSP.
 */
@Injectable()
export class SandboxPsp implements OnModuleInit {
  private readonly logger = new Logger('SandboxPsp');

  constructor(
    @InjectQueue(QUEUES.payments) private readonly queue: Queue<DeliveryJob>,
    private readonly workers: WorkerRegistry,
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    readonly ledger: SandboxLedger,
  ) {}

  onModuleInit(): void {
    this.workers.process<DeliveryJob>(QUEUES.payments, (job) => this.deliver(job), {
      name: DELIVER,
      concurrency: 4,
    });
  }

  /**
   * Decides the card's fate now, records it in the sandbox's books and schedules the webhook that
   * reports it. A captured or cancelled intent cannot be confirmed again (409).
   */
  async confirm(payment: { id: string; orderId: string; amount: number; currency: string }, card: string) {
    const digits = card.replace(/[\s-]/g, '');
    if (digits !== SANDBOX_CARDS.success && digits !== SANDBOX_CARDS.declined)
      throw new UnknownTestCardError();
    const captured = digits === SANDBOX_CARDS.success;
    let r = await this.ledger.confirm(payment.id, captured);
    if (r === 'unknown') {
      // Opened before the sandbox kept books (or its Redis lost them): open it now, as the
      // shop's record says, then charge it.
      await this.ledger.create(payment.id, payment.orderId, payment.amount, payment.currency);
      r = await this.ledger.confirm(payment.id, captured);
    }
    if (r === 'already_captured') throw new PaymentNotPendingError('SUCCEEDED');
    if (r !== 'ok') throw new PaymentNotPendingError('CANCELLED');
    const event: WebhookEvent = {
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      type: captured ? 'payment.succeeded' : 'payment.failed',
      data: {
        paymentId: payment.id,
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
      },
    };
    await this.enqueue({ event });
    if (Math.random() * 100 < this.config.payments.sandbox.duplicatePercent) {
      // The same event again, racing the first delivery (or arriving just after it).
      await this.enqueue({ event, duplicate: true }, Math.floor(Math.random() * 50));
    }
    return event;
  }

  /** Non-production: the next `times` calls of `op` fail at the sandbox before it does anything. */
  injectFault(op: SandboxFault, times: number): Promise<void> {
    if (this.config.env === 'production') throw new Error('sandbox faults are not available in production');
    return this.ledger.injectFault(op, times);
  }

  private enqueue(data: DeliveryJob, delay = 0): Promise<Job<DeliveryJob>> {
    const { attempts, backoffMs } = this.config.payments.sandbox;
    // The PSP's own retry policy, not an owed job of the shop: a delivery it gives up on is
    // logged (deliver) and dropped, never a dead letter; reconciliation asks the PSP then.
    return this.queue.add(DELIVER, traced(data), {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      delay,
      removeOnFail: true,
    });
  }

  private webhookUrl(): string {
    if (this.config.payments.sandbox.webhookUrl) return this.config.payments.sandbox.webhookUrl;
    // PORT=0 (tests) binds a random port: ask the server which one it got.
    const addr = this.adapterHost.httpAdapter?.getHttpServer()?.address() as AddressInfo | null;
    return `http://127.0.0.1:${addr?.port ?? this.config.port}/api/v1/payments/webhooks/sandbox`;
  }

  /** One delivery attempt; throwing makes Bull retry with backoff. Signed afresh each attempt. */
  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const body = JSON.stringify(job.data.event);
    const signature = signWebhook(this.config.payments.webhookSecret, body, Math.floor(Date.now() / 1000));
    const res = await fetch(this.webhookUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': signature,
        'user-agent': 'sandbox-psp/1',
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status < 200 || res.status >= 300) {
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1))
        this.logger.warn(`giving up on webhook ${job.data.event.id}: the shop answered ${res.status}`);
      throw new Error(`webhook ${job.data.event.id} answered ${res.status}`);
    }
  }
}
