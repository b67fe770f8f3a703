import { Param, ParseUUIDPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

/** A path parameter that must be a UUID; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => new AppError('INVALID_PATH_PARAMETER', `${name} in the path must be a UUID such as 3f2c6f1e-8a4b-4c7d-9e0f-1a2b3c4d5e6f`, {
        details: [{ field: name, message: `${name} must be a UUID` }],
      }),
    }),
  );
