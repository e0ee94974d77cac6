/** The audit module's public API. */
export { LoginAudit } from './login-audit.service';
export type { LoginEvent, LoginFailureReason, LoginAuditItem } from './login-audit.types';
