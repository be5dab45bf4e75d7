import { createHash } from 'node:crypto';

/**
 * The console's only stylesheet and script, served as static files by the API
 * (/console/static/...): no inline style or script anywhere, so the console runs under a CSP
 * with neither 'unsafe-inline' nor hashes.
 */
export const CONSOLE_CSS = `
:root { --fg: #1b1f24; --muted: #4b5563; --bg: #fff; --line: #d0d7de; --accent: #0b57d0;
  --warn-bg: #fff4e5; --warn: #7a3e00; --ok-bg: #e7f5ec; --ok: #0f5132; --bad: #a4161a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible,
textarea:focus-visible, [tabindex]:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
  padding: 8px 16px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header.top .brand { font-weight: 700; margin-right: 8px; }
header.top nav ul { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; margin: 0; padding: 0; }
header.top nav a[aria-current="page"] { font-weight: 700; color: var(--fg); }
header.top .who { margin-left: auto; display: flex; gap: 8px; align-items: center; flex-wrap: wrap;
  color: var(--muted); }
main { padding: 16px; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 0 0 12px; word-break: break-word; }
h2 { font-size: 1.2rem; margin: 24px 0 8px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; white-space: nowrap; }
td.hash, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85rem;
  word-break: break-all; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 12px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-word; font-size: 0.9rem; }
form.filters, form.inline { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end;
  margin: 0 0 12px; }
form.inline { margin: 0; }
label { display: block; font-weight: 600; }
input, select, textarea, button { font: inherit; }
input, select, textarea { padding: 6px 8px; border: 1px solid #6e7781; border-radius: 4px;
  max-width: 100%; }
textarea { width: 100%; min-height: 5rem; }
button { padding: 6px 14px; border-radius: 4px; border: 1px solid #6e7781; background: #fff;
  color: var(--fg); cursor: pointer; min-height: 44px; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
.decision { border: 1px solid var(--line); padding: 12px; border-radius: 6px; margin: 16px 0; }
.decision .buttons { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 8px; }
.notice { padding: 10px 12px; border-radius: 4px; margin: 0 0 12px; background: var(--warn-bg);
  color: var(--warn); border: 1px solid #f0c36d; }
.notice.ok { background: var(--ok-bg); color: var(--ok); border-color: #8fd1a8; }
.notice.error { background: #fdecea; color: var(--bad); border-color: #f1aeb5; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 12px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; word-break: break-word; }
.risk-high { color: var(--bad); font-weight: 700; }
.risk-medium { color: var(--warn); font-weight: 700; }
.muted { color: var(--muted); }
.login { max-width: 360px; margin: 10vh auto; padding: 16px; }
.login form > div { margin-bottom: 12px; }
.login input { width: 100%; }
@media (max-width: 600px) {
  main { padding: 12px; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 6px; }
  th, td { padding: 6px 4px; font-size: 0.9rem; }
  header.top .who { margin-left: 0; }
}
`;

/**
 * Live queue: polls the rows of the open queue every 2 s (conditional GET, 304 when nothing
 * changed) and swaps them in, keeping keyboard focus where it was.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var body = document.querySelector('tbody[data-live]');
  if (!body) return;
  var src = body.getAttribute('data-live');
  var count = document.getElementById('queue-count');
  var empty = document.getElementById('queue-empty');
  var etag = body.getAttribute('data-etag');
  function apply(fresh) {
    var active = document.activeElement;
    var activeId = active && body.contains(active) ? active.id : null;
    body.replaceChildren.apply(body, Array.prototype.slice.call(fresh.childNodes));
    if (activeId) {
      var again = document.getElementById(activeId);
      if (again) again.focus();
    }
    var n = Number(fresh.getAttribute('data-count') || '0');
    if (count) count.textContent = fresh.getAttribute('data-summary') || '';
    if (empty) empty.hidden = n > 0;
  }
  function poll() {
    var headers = { Accept: 'text/html' };
    if (etag) headers['If-None-Match'] = etag;
    fetch(src, { headers: headers, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status !== 200) return null;
        etag = res.headers.get('ETag');
        return res.text();
      })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString('<table>' + text + '</table>', 'text/html');
        var fresh = doc.querySelector('tbody');
        if (fresh) apply(fresh);
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
`;

const etagOf = (text: string) =>
  `"${createHash('sha256').update(text).digest('base64url').slice(0, 22)}"`;

export const ASSETS: Record<string, { type: string; body: string; etag: string }> = {
  'console.css': { type: 'text/css; charset=utf-8', body: CONSOLE_CSS, etag: etagOf(CONSOLE_CSS) },
  'console.js': {
    type: 'text/javascript; charset=utf-8',
    body: CONSOLE_JS,
    etag: etagOf(CONSOLE_JS),
  },
};

export { etagOf };

/**
 * The console's own CSP, stricter than the API's default: scripts and styles only from these
 * files, no inline anything, no framing, forms post only back here.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
