import { ArgumentMetadata, HttpException, Logger, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, ValidationFailedError } from '../../common/errors/domain-error';

export interface FieldError {
  field: string;
  errors: string[];
}

function flatten(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, errors: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * class-validator's errors as the contract's VALIDATION_FAILED: the first problem in the message,
 * one entry per field in `details` (HTTP bodies and queries, and gRPC requests: infra/grpc).
 */
export function validationFailed(errors: readonly ValidationError[]): ValidationFailedError {
  const details = flatten(errors);
  const first = details[0];
  return new ValidationFailedError(
    first ? `${first.field}: ${first.errors[0]}` : 'Validation failed',
    details,
  );
}

/**
 * Two gaps of Nest's pipe closed: a JSON `null` body is no longer taken for an empty object (it
 * would pass a DTO whose fields are all optional: `POST /auth/logout` with `null` ended every
 * session), and hostile input that makes the transformer or a validator throw is a 400, not a
 * 500 (a body nested 5,000 arrays deep overflows class-transformer's stack; validator.js'
 * isEmail calls encodeURI, which throws on a lone surrogate).
 */
class StrictValidationPipe extends ValidationPipe {
  private readonly logger = new Logger('Validation');

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value === null && this.toValidate(metadata))
      throw new ValidationFailedError('The body must be a JSON object');
    try {
      return await super.transform(value, metadata);
    } catch (err) {
      if (err instanceof DomainError || err instanceof HttpException) throw err;
      this.logger.warn(`${metadata.type} could not be validated: ${(err as Error)?.message}`);
      throw new ValidationFailedError(
        `The ${metadata.type} could not be validated (malformed or too deeply nested)`,
      );
    }
  }
}

/**
 * Unknown fields are rejected (mass assignment: `price`, `role`, `userId` sent by a client → 400),
 * payloads are transformed into the DTO classes, and failures become VALIDATION_FAILED with
 * one entry per field in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    exceptionFactory: validationFailed,
  });
}
