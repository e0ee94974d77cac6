import type { LoginEventKind, LoginFailureReason, LoginOutcome } from './login-audit.entity';

export type { LoginEventKind, LoginFailureReason, LoginOutcome };

/** What the auth flow reports; the audit module stamps id and time. */
export interface LoginEvent {
  event: LoginEventKind;
  outcome: LoginOutcome;
  reason: LoginFailureReason | 'logout' | null;
  userId: string | null;
  email: string;
  ip: string;
  userAgent: string | null;
}

/** The job payload: the row id makes the insert idempotent (INSERT IGNORE on a retry). */
export interface LoginAuditJob extends LoginEvent {
  id: string;
  at: string;
  requestId?: string;
}

/** A listing of the trail (admin filters, or the caller's own). */
export interface LoginAuditQuery {
  email?: string;
  userId?: string;
  cursor?: string;
  limit?: number;
}

export interface LoginAuditItem {
  id: string;
  userId: string | null;
  email: string;
  event: LoginEventKind;
  outcome: LoginOutcome;
  reason: string | null;
  ip: string;
  userAgent: string | null;
  createdAt: string;
}
