import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsObject,
  IsString,
  ValidateNested,
  IsDefined,
} from 'class-validator';
import { DomainError } from './domain-error';
import { createValidationPipe, registerFastPath } from './validation';

class Inner {
  @IsString()
  id: string;
}

class Item {
  @IsDefined()
  @ValidateNested()
  @Type(() => Inner)
  inner: Inner;

  @IsObject()
  data: Record<string, unknown>;
}

class Batch {
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => Item)
  items: Item[];
}

class FastItem extends Item {}
registerFastPath(FastItem, (v) => (v as { fast?: boolean }).fast === true);

const pipe = createValidationPipe();
const validate = (metatype: unknown, value: unknown, type: 'body' | 'query' = 'body') =>
  pipe.transform(value, { type, metatype: metatype as never });
const failure = async (metatype: unknown, value: unknown) => {
  try {
    await validate(metatype, value);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('accepted');
};

const item = (data: unknown = { a: 1 }) => ({ inner: { id: 'x' }, data });

describe('the validation pipe', () => {
  it('refuses arrays where a nested object is due, at every level', async () => {
    for (const [value, field] of [
      [{ inner: [], data: {} }, 'inner'],
      [{ inner: [{ id: 'x' }], data: {} }, 'inner'],
      [{ items: [[]] }, 'items.0'],
      [{ items: [item(), 'x'] }, 'items.1'],
      [{ items: [{ inner: [], data: {} }] }, 'items.0.inner'],
    ] as const) {
      const metatype = 'items' in value ? Batch : Item;
      const err = await failure(metatype, value);
      expect(err.errors?.[0].field).toBe(field);
    }
    expect((await failure(Item, [])).errors?.[0].field).toBe('body');
    expect((await failure(Item, item([]))).errors?.[0].field).toBe('data');
  });

  it('refuses an oversized array before looking at any element', async () => {
    const items = Array.from({ length: 50000 }, () => ({}));
    const started = process.hrtime.bigint();
    const err = await failure(Batch, { items });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(err.errors).toEqual([
      { field: 'items', message: 'items must contain no more than 500 elements' },
    ]);
    // Element-by-element validation of 50,000 items takes seconds; this is one length check.
    expect(ms).toBeLessThan(50);
  });

  it('refuses keys named like Object.prototype members the DTO does not declare', async () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'prototype']) {
      const err = await failure(Item, { ...item(), [key]: 1 });
      expect(err.errors?.[0]).toEqual({ field: key, message: `property ${key} should not exist` });
    }
  });

  it('keeps free-form data exactly as sent, whatever its keys, on both paths', async () => {
    const data = JSON.parse(
      '{"constructor":{"a":1},"toString":"s","valueOf":2,"hasOwnProperty":[1],"n":{"constructor":"c","isPrototypeOf":null}}',
    );
    const slow = (await validate(Item, item(data))) as Item;
    expect(slow).toBeInstanceOf(Item);
    expect(JSON.stringify(slow.data)).toBe(JSON.stringify(data));
    const fast = (await validate(FastItem, { ...item(data), fast: true })) as Item;
    expect(JSON.stringify(fast.data)).toBe(JSON.stringify(data));
    const batch = (await validate(Batch, { items: [item(data), item({ b: 1 })] })) as Batch;
    expect(JSON.stringify(batch.items[0].data)).toBe(JSON.stringify(data));
    expect(batch.items[1].data).toEqual({ b: 1 });
  });

  it('leaves the request body as it came', async () => {
    const body = { items: [item(JSON.parse('{"constructor":1}'))] };
    const before = JSON.stringify(body);
    await validate(Batch, body);
    expect(JSON.stringify(body)).toBe(before);
  });
});
