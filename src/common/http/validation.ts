import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ErrorDetailDto } from './error-response.dto.js';

function flatten(errors: ValidationError[], parent = ''): ErrorDetailDto[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator names nested properties by their last segment only; give the full path.
      message: parent ? message.replace(new RegExp(`^${error.property}\\b`), field) : message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Turns class-validator errors into the spec's 400 body with one detail per failed rule. */
export function validationException(errors: ValidationError[]): BadRequestException {
  const details = flatten(errors);
  return new BadRequestException({
    message: details.map((detail) => detail.message).join('; ') || 'Invalid request',
    details,
  });
}

/** The global pipe: strip nothing silently (unknown fields are rejected), convert query strings to their types. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: validationException,
  });
}
