import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidationFailedError } from '../../common/errors/domain-error';

export interface FieldError {
  field: string;
  errors: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, errors: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Unknown fields are rejected (mass assignment: `price`, `role`, `userId` sent by a client → 400),
 * payloads are transformed into the DTO classes, and failures become VALIDATION_FAILED with
 * one entry per field in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const first = details[0];
      return new ValidationFailedError(
        first ? `${first.field}: ${first.errors[0]}` : 'Validation failed',
        details,
      );
    },
  });
}
