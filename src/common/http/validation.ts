import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { AppError, type ErrorDetail } from '../errors/app-error.js';

/**
 * One message per field, the one that applies to what was sent: "X is required" when it is missing, else
 * the first rule the field's declaration lists that it fails (its type before its length). class-validator
 * runs a property's rules bottom-up, so that rule is the last one in `constraints`.
 */
function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const messages = Object.values(error.constraints ?? {});
    const own: ErrorDetail[] = [];
    if (messages.length > 0) {
      const message = error.value === undefined && !error.constraints?.whitelistValidation ? `${field} is required` : messages[messages.length - 1];
      // class-validator names nested properties by their last segment only; give the full path.
      own.push({ field, message: parent ? message.replace(new RegExp(`^${error.property}\\b`), field) : message });
    }
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Turns class-validator errors into the spec's 400 body (VALIDATION_FAILED), one detail per field at fault. */
export function validationException(errors: ValidationError[]): AppError {
  const details = flatten(errors);
  return new AppError('VALIDATION_FAILED', details.map((detail) => detail.message).join('; ') || 'Invalid request', { details });
}

/** The rules every request body is checked with (also applied item by item by batch routes). */
export const VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true } as const;

/** The global pipe: strip nothing silently (unknown fields are rejected), convert query strings to their types. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: validationException,
  });
}
