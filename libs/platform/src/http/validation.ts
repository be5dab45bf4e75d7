import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldError } from './domain-error';
import { dtoShape, DtoShape, isPlainObject, shapeErrors } from './dto-shape';

/** At most this many field errors are listed in a 400 (the problem also says how many there were). */
export const MAX_FIELD_ERRORS = 20;

function flatten(errors: ValidationError[], parent = '', out: FieldError[] = []): FieldError[] {
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
    flatten(e.children ?? [], field, out);
  }
  return out;
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

const invalid = (errors: FieldError[]) =>
  new DomainError('validation_failed', 'The request is not valid', errors);

/**
 * Free-form values (a property with no nested DTO, such as an event's `data`) are put back as
 * they came: class-transformer drops keys named like Object.prototype members (`constructor`,
 * `toString`, `valueOf`, …) and Nest strips some in place, so they are validated on a copy.
 */
function restoreFreeForm(shape: DtoShape, instance: unknown, raw: unknown): void {
  if (!isPlainObject(raw) || typeof instance !== 'object' || instance === null) return;
  const target = instance as Record<string, unknown>;
  for (const [prop, rule] of shape.properties) {
    if (!Object.prototype.hasOwnProperty.call(raw, prop)) continue;
    const given = raw[prop];
    const nested = rule.nested?.();
    if (!nested) {
      if (typeof given === 'object' && given !== null) target[prop] = given;
    } else if (rule.each && Array.isArray(given) && Array.isArray(target[prop])) {
      const items = target[prop] as unknown[];
      given.forEach((g, i) => restoreFreeForm(nested, items[i], g));
    } else if (!rule.each) {
      restoreFreeForm(nested, target[prop], given);
    }
  }
}

class LedgerlineValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const shape =
      metadata.type === 'body' || metadata.type === 'query' ? dtoShape(metadata.metatype) : null;
    if (!shape) return super.transform(value, metadata);
    // Before any per-element work: wrong shapes and oversized arrays are refused outright.
    const wrong = shapeErrors(shape, value, MAX_FIELD_ERRORS);
    if (wrong.length) throw invalid(wrong);
    if (metadata.type === 'query') return super.transform(value, metadata);
    const check = fastPaths.get(metadata.metatype);
    if (check?.(value)) return value;
    const instance = await super.transform(structuredClone(value), metadata);
    restoreFreeForm(shape, instance, value);
    return instance;
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
    exceptionFactory: (errors) => invalid(flatten(errors)),
  });
}
