/**
 * What only test/, scripts/ and bench/ may import from the payments module (the sandbox PSP's
 * internals, the repository and entities the unit stubs are typed on). Application code uses
 * `./index.ts`; dependency-cruiser forbids importing this file from src/.
 */
export { PaymentReconciliation } from './payment-reconciliation.service';
export { PaymentsRepository } from './payments.repository';
export { PaymentEntity } from './payment.entity';
export { RefundEntity } from './refund.entity';
export { SandboxPsp } from './sandbox/sandbox-psp';
export { SandboxLedger } from './sandbox/sandbox-ledger';
