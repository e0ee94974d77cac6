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
import { signWebhook } from '../webhook-signature';

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
 * The sandbox PSP's own machinery: it "charges" the card on confirm and tells us the result the
 * way real PSPs do — later, over HTTP, signed, retried with exponential backoff until a 2xx, and
 * sometimes twice (SANDBOX_DUPLICATE_PERCENT). Delivery jobs run on the `payments` queue.
 */
@Injectable()
export class SandboxPsp implements OnModuleInit {
  private readonly logger = new Logger('SandboxPsp');

  constructor(
    @InjectQueue(QUEUES.payments) private readonly queue: Queue<DeliveryJob>,
    private readonly workers: WorkerRegistry,
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    this.workers.process(this.queue, (job) => this.deliver(job), { name: DELIVER, concurrency: 4 });
  }

  /** Decides the card's fate now and schedules the webhook that reports it. */
  async confirm(payment: { id: string; orderId: string; amount: number; currency: string }, card: string) {
    const digits = card.replace(/[\s-]/g, '');
    if (digits !== SANDBOX_CARDS.success && digits !== SANDBOX_CARDS.declined)
      throw new UnknownTestCardError();
    const event: WebhookEvent = {
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      type: digits === SANDBOX_CARDS.success ? 'payment.succeeded' : 'payment.failed',
      data: {
        paymentId: payment.id,
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
      },
    };
    await this.enqueue({ event });
    return event;
  }

  private enqueue(data: DeliveryJob, delay = 0): Promise<Job<DeliveryJob>> {
    const { attempts, backoffMs } = this.config.payments.sandbox;
    return this.queue.add(DELIVER, traced(data), {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      delay,
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
      throw new Error(`webhook ${job.data.event.id} answered ${res.status}`);
    }
    if (!job.data.duplicate && Math.random() * 100 < this.config.payments.sandbox.duplicatePercent) {
      this.logger.debug(`redelivering ${job.data.event.id} on purpose`);
      await this.enqueue({ event: job.data.event, duplicate: true }, 50);
    }
  }
}
