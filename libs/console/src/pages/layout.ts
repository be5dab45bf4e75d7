import { html, Interpolated, SafeHtml } from '../html';

/** Who is looking at a page: what the layout and the pages need of the session. */
export interface PageUser {
  email: string;
  role: string;
  csrfToken: string;
  canDecide: boolean;
  canManageWebhooks: boolean;
  canReadAudit: boolean;
}

export type Section = 'queue' | 'audit' | 'webhooks' | 'account' | 'action';

const head = (title: string) =>
  html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Ledgerline console</title>
        <link rel="stylesheet" href="/console/static/console.css" />
        <script src="/console/static/console.js" defer></script>
      </head>
    </html>`;

/** The hidden CSRF field every form that changes something carries. */
export const csrfField = (user: PageUser) =>
  html`<input type="hidden" name="_csrf" value="${user.csrfToken}" />`;

function navLink(href: string, label: string, current: boolean): SafeHtml {
  return html`<li><a href="${href}" ${current ? html` aria-current="page"` : ''}>${label}</a></li>`;
}

export function page(
  user: PageUser,
  section: Section,
  title: string,
  content: Interpolated,
): SafeHtml {
  return html`${head(title)}
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Ledgerline</span>
  <nav aria-label="Console">
    <ul>
      ${navLink('/console', 'Queue', section === 'queue')}
      ${user.canReadAudit && navLink('/console/audit', 'Audit', section === 'audit')}
      ${user.canManageWebhooks && navLink('/console/webhooks', 'Webhooks', section === 'webhooks')}
      ${navLink('/console/account', 'Account', section === 'account')}
    </ul>
  </nav>
  <div class="who">
    <span>${user.email} (${user.role})</span>
    <form method="post" action="/auth/logout" class="inline">
      ${csrfField(user)}
      <button type="submit">Sign out</button>
    </form>
  </div>
</header>
<main id="main" tabindex="-1">
${content}
</main>
</body>
</html>`;
}

/** A page for someone not signed in (the sign-in form). */
export function barePage(title: string, content: Interpolated): SafeHtml {
  return html`${head(title)}
<body>
<main id="main" class="login">
${content}
</main>
</body>
</html>`;
}

export function notice(kind: 'ok' | 'warn' | 'error', text: Interpolated): SafeHtml {
  const cls = kind === 'warn' ? 'notice' : `notice ${kind}`;
  return html`<p class="${cls}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;
}

/** "12 s", "5 min", "3 h", "2 d": how long ago. */
export function age(fromIso: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(fromIso).getTime()) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export const when = (iso: string | null | undefined) =>
  iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : '';
