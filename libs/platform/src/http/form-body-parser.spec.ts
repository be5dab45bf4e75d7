import { parseMultipartFields } from './form-body-parser';

describe('parseMultipartFields', () => {
  const ct = 'multipart/form-data; boundary=----x42';
  const body = (...parts: string[]) => `${parts.join('')}------x42--\r\n`;
  const field = (name: string, value: string) =>
    `------x42\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;

  it('reads fields', () => {
    expect(
      parseMultipartFields(ct, body(field('List-Unsubscribe', 'One-Click'), field('a', 'b'))),
    ).toEqual({ 'List-Unsubscribe': 'One-Click', a: 'b' });
  });

  it('drops prototype-reaching names and over-long ones, like the urlencoded parser', () => {
    const fields = parseMultipartFields(
      ct,
      body(field('__proto__', 'x'), field('constructor', 'y'), field('n'.repeat(65), 'z')),
    );
    expect(fields).toEqual({});
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
  });

  it('refuses files, a missing boundary and an unterminated body', () => {
    const file =
      '------x42\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nx\r\n';
    expect(parseMultipartFields(ct, body(file))).toBeNull();
    expect(parseMultipartFields('multipart/form-data', body(field('a', 'b')))).toBeNull();
    expect(parseMultipartFields(ct, field('a', 'b'))).toBeNull();
  });
});
