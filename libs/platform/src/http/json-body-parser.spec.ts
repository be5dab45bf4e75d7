import { jsonDepth, MAX_JSON_DEPTH } from './json-body-parser';

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
