import { escapeHtml, html, raw } from './html';

describe('html templates', () => {
  it('escapes every interpolated string, attribute quotes included', () => {
    const evil = `<script>alert("x")</script>' onmouseover='x' \``;
    const out = html`<p title="${evil}">${evil}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/"[^"]*onmouseover='x'/);
    expect(out).toBe(`<p title="${escapeHtml(evil)}">${escapeHtml(evil)}</p>`);
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });

  it('nests templates and arrays without escaping twice; skips null, undefined and booleans', () => {
    const items = ['a&b', 'c'].map((x) => html`<li>${x}</li>`);
    const list = html`<ul>
      ${items}
    </ul>`.value.replace(/\s+/g, '');
    expect(list).toBe('<ul><li>a&amp;b</li><li>c</li></ul>');
    expect(html`${null}${undefined}${false}${true}${0}`.value).toBe('0');
    expect(html`${raw('<hr>')}`.value).toBe('<hr>');
  });
});
