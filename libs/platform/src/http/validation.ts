import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** A cheap check that answers true only for a value the DTO's validation would accept as is. */
export type FastPathCheck = (value: unknown) => boolean;

const fastPaths = new Map<unknown, FastPathCheck>();

/**
 * Lets a hot route's body skip class-transformer and class-validator when `check` says it is
 * plainly valid; anything else (including every invalid body) still takes the full validation,
 * so the answers and their errors stay class-validator's. Each check is tested against it.
 */
export function registerFastPath(dto: abstract new () => unknown, check: FastPathCheck): void {
  fastPaths.set(dto, check);
}

class LedgerlineValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const check = metadata.type === 'body' ? fastPaths.get(metadata.metatype) : undefined;
    if (check?.(value)) return value;
    return super.transform(value, metadata);
  }
}

/** class-validator with unknown fields rejected; failures become 400 validation_failed. */
export function createValidationPipe(): ValidationPipe {
  return new LedgerlineValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new DomainError('validation_failed', 'The request is not valid', flatten(errors)),
  });
}
