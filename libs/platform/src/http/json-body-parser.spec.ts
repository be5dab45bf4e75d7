import fc from 'fast-check';
import { inspectJson, jsonDepth, MAX_JSON_DEPTH, scanJsonText } from './json-body-parser';

describe('jsonDepth', () => {
  it('counts nesting of objects and arrays', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
  });

  it('stops early on hostile depth without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
  });
});

describe('inspectJson', () => {
  it('finds a number outside double range, with its path', () => {
    expect(inspectJson(JSON.parse('{"data":{"x":[1, 1e400]}}')).problem).toEqual({
      field: 'data.x.1',
      message: 'numbers must be within double range',
    });
    expect(inspectJson(JSON.parse('-1e400')).problem?.field).toBe('body');
    expect(inspectJson(JSON.parse('{"x":1.7976931348623157e308,"y":-0}')).problem).toBe(undefined);
  });

  it('finds lone surrogates in values and keys, not in pairs', () => {
    expect(inspectJson(JSON.parse('{"a":"\\ud800"}')).problem?.field).toBe('a');
    expect(inspectJson(JSON.parse('{"a":{"\\udc00x":1}}')).problem?.field).toBe('a.\udc00x');
    expect(inspectJson(JSON.parse('{"a":"\\ud83d\\ude00"}')).problem).toBe(undefined);
  });
});

describe('scanJsonText', () => {
  const flagged = (text: string) => scanJsonText(text).suspicious;

  it('measures depth outside strings only', () => {
    expect(scanJsonText('{"a":"[[[{{{","b":[{"c":"\\"]"}]}').depth).toBe(3);
    expect(scanJsonText('['.repeat(100000)).depth).toBe(MAX_JSON_DEPTH + 1);
  });

  it('flags what inspectJson must look at, and leaves ordinary bodies alone', () => {
    for (const text of [
      '1e400',
      '[-1E+308]',
      `{"a":${'9'.repeat(309)}}`,
      '"\\uD800"',
      '{"\\udfff":1}',
    ]) {
      expect({ text, flagged: flagged(text) }).toEqual({ text, flagged: true });
    }
    for (const text of ['{"a":1e10,"b":"1e400","c":true,"d":"\\u00e9\\\\ud800"}', '[12345]']) {
      expect({ text, flagged: flagged(text) }).toEqual({ text, flagged: false });
    }
  });

  it('never misses a value inspectJson refuses, nor misjudges depth (property)', () => {
    const leaf = fc.oneof(
      fc.constantFrom('1e400', '-1e400', '1E+999', `${'1'.repeat(310)}`, '1e99', '0.5e-400'),
      fc.constantFrom('"\\ud800"', '"\\uDC00x"', '"\\ud83d\\ude00"', '"\\\\ud800"', '"é"'),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    );
    const text = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
        fc
          .uniqueArray(fc.tuple(fc.string(), tie('node')), { maxLength: 4, selector: ([k]) => k })
          .map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
      ),
    })).node;
    fc.assert(
      fc.property(text, (t) => {
        const scan = scanJsonText(t);
        const inspected = inspectJson(JSON.parse(t));
        if (inspected.problem) expect(scan.suspicious).toBe(true);
        else expect(scan.depth).toBe(inspected.depth);
      }),
      { numRuns: 2000 },
    );
  });
});
