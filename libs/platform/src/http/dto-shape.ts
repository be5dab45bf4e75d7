import type * as TransformerStorage from 'class-transformer/types/storage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { FieldError } from './domain-error';

// class-transformer keeps @Type() metadata in a storage it does not export from its index.
const { defaultMetadataStorage } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('class-transformer/cjs/storage') as typeof TransformerStorage;

/** What the validation pipe checks of a DTO property before class-transformer sees the value. */
export interface PropertyRule {
  /** The nested DTO (`@ValidateNested` + `@Type`); its value must be an object, never an array. */
  nested?: () => DtoShape | null;
  /** `@ValidateNested({ each: true })`: an array whose every element is such an object. */
  each: boolean;
  /** `@ArrayMaxSize(n)`: refused before any element is looked at. */
  maxItems?: number;
}

export interface DtoShape {
  properties: Map<string, PropertyRule>;
}

// Keys that class-transformer or Nest's pipe drop silently: refused unless the DTO declares them.
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype).concat(['prototype']));

const shapes = new Map<unknown, DtoShape | null>();

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The rules of a DTO class read from its decorators, once; null for a class without any. */
export function dtoShape(metatype: unknown): DtoShape | null {
  if (typeof metatype !== 'function') return null;
  if (shapes.has(metatype)) return shapes.get(metatype)!;
  const metas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
  let shape: DtoShape | null = null;
  if (metas.length) {
    shape = { properties: new Map() };
    for (const m of metas) {
      const rule = shape.properties.get(m.propertyName) ?? { each: false };
      if (m.type === ValidationTypes.NESTED_VALIDATION) {
        const type = defaultMetadataStorage.findTypeMetadata(metatype, m.propertyName);
        rule.each = Boolean(m.each);
        rule.nested = () => (type ? dtoShape(type.typeFunction()) : null);
      }
      if (m.name === 'arrayMaxSize') rule.maxItems = Number(m.constraints[0]);
      shape.properties.set(m.propertyName, rule);
    }
  }
  shapes.set(metatype, shape);
  return shape;
}

/**
 * Cheap structural errors, found before class-transformer copies the value: a non-object where a
 * DTO is due (arrays included), an array longer than its `@ArrayMaxSize` (so a 50,000-element
 * batch costs nothing per element), and keys named like Object.prototype members the DTO does
 * not declare. At most `max` errors; class-validator reports everything else.
 */
export function shapeErrors(
  shape: DtoShape,
  value: unknown,
  max: number,
  path = '',
  out: FieldError[] = [],
): FieldError[] {
  if (!isPlainObject(value)) {
    out.push({ field: path || 'body', message: `${path || 'body'} must be a JSON object` });
    return out;
  }
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_NAMES.has(key) && !shape.properties.has(key)) {
      out.push({ field: join(path, key), message: `property ${key} should not exist` });
    }
  }
  for (const [prop, rule] of shape.properties) {
    if (out.length >= max) break;
    const v = Object.prototype.hasOwnProperty.call(value, prop) ? value[prop] : undefined;
    if (v === undefined || v === null) continue;
    const field = join(path, prop);
    if (rule.maxItems !== undefined && Array.isArray(v) && v.length > rule.maxItems) {
      out.push({ field, message: `${prop} must contain no more than ${rule.maxItems} elements` });
      continue;
    }
    const nested = rule.nested?.();
    if (!nested) continue;
    if (!rule.each) {
      shapeErrors(nested, v, max, field, out);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length && out.length < max; i++) {
        shapeErrors(nested, v[i], max, `${field}.${i}`, out);
      }
    }
  }
  return out.slice(0, max);
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
