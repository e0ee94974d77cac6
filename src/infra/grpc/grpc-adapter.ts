import { Metadata, ServerUnaryCall, status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AUTH_USER_KEY, AuthUser } from '../../common/auth';
import { UnauthenticatedError, ValidationFailedError } from '../../common/errors/domain-error';
import { isUuid } from '../../common/uuid';
import { validationFailed } from '../http/validation.pipe';

/**
 * What every gRPC handler does around its one service call, in one place (as the one exception
 * filter serves every HTTP route): who calls, whether the client still waits, ids and request
 * messages checked the way REST checks them, timestamps on the wire. Errors thrown here are
 * DomainErrors that GrpcExceptionFilter maps like any other (UNAUTHENTICATED, INVALID_ARGUMENT).
 *
 * A unary handler is `grpcUnary(metadata, call, args, run)`: the caller, then its arguments
 * (`grpcId`, `grpcDto`), then the deadline right before the service call — so a call is refused
 * for its credentials or its arguments first, and nothing is started for a client that already
 * gave up. No handler can leave a step out or take them in another order.
 */

/**
 * One unary call: `grpcCaller`, then `args` (validation; may throw INVALID_ARGUMENT), then
 * `assertCallAlive`, then `run` — the one service call and its answer on the wire.
 */
export async function grpcUnary<A, R>(
  metadata: Metadata,
  call: GrpcCall,
  args: (user: AuthUser) => A | Promise<A>,
  run: (args: A, user: AuthUser) => Promise<R>,
): Promise<R> {
  const user = grpcCaller(metadata);
  const parsed = await args(user);
  assertCallAlive(call);
  return run(parsed, user);
}

/** The part of a server call the deadline check reads (unary calls and server streams alike). */
export type GrpcCall = Pick<ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>;

/**
 * The authenticated caller. The global AuthGuard verified the metadata's `authorization: Bearer`
 * token with the users module's AccessTokens and left the user on the call's Metadata; a method
 * reached without one (a @Public() method, or a guard that did not run) is UNAUTHENTICATED.
 */
export function grpcCaller(metadata: Metadata): AuthUser {
  const user = (metadata as unknown as Record<string, AuthUser | undefined>)[AUTH_USER_KEY];
  if (!user) throw new UnauthenticatedError();
  return user;
}

/**
 * A call whose client gave up — it cancelled, or its deadline passed while the call waited (for
 * the message, the guard, a busy event loop) — is not started: DEADLINE_EXCEEDED, and the
 * service never runs for an answer nobody reads (an order or a payment the client would not
 * know it has).
 */
export function assertCallAlive(call: GrpcCall): void {
  const deadline = call.getDeadline?.();
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  if (call.cancelled || (Number.isFinite(ms) && ms <= Date.now()))
    throw new RpcException({
      code: status.DEADLINE_EXCEEDED,
      message: 'Deadline exceeded before the call started',
    });
}

/**
 * An id field: a UUID in any case, answered in lower case (the app writes ids in lower case;
 * CHAR(36) compares case-insensitively). `what` names it in the error: `id: must be an order id (UUID)`.
 */
export function grpcId(field: string, value: unknown, what = 'an id'): string {
  if (!isUuid(value)) throw new ValidationFailedError(`${field}: must be ${what} (UUID)`);
  return value.toLowerCase();
}

/**
 * A request message checked with the REST DTO class of the same operation, with the rules of
 * the HTTP ValidationPipe that matter for messages (unknown fields refused) and its error shape.
 * Input that makes the transformer or a validator throw is INVALID_ARGUMENT, not INTERNAL.
 */
export async function grpcDto<T extends object>(cls: new () => T, plain: object): Promise<T> {
  let dto: T;
  let errors;
  try {
    dto = plainToInstance(cls, plain);
    errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  } catch {
    throw new ValidationFailedError('The request could not be validated (malformed or too deeply nested)');
  }
  if (errors.length) throw validationFailed(errors);
  return dto;
}

/** A google.protobuf.Timestamp (as @grpc/proto-loader takes it) from a Date, epoch ms or ISO string. */
export function grpcTimestamp(at: Date | number | string): { seconds: number; nanos: number } {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
}
