import { html, SafeHtml } from '../html';
import { csrfField, notice, page, PageUser } from './layout';

export function accountPage(
  user: PageUser,
  minLength: number,
  message?: { kind: 'ok' | 'error'; text: string },
): SafeHtml {
  return page(
    user,
    'account',
    'Your account',
    html`<h1>Your account</h1>
      ${message && notice(message.kind, message.text)}
      <p>Signed in as ${user.email}, role ${user.role}.</p>
      <h2>Change your password</h2>
      <form method="post" action="/console/account/password">
        ${csrfField(user)}
        <div>
          <label for="current">Current password</label>
          <input
            id="current"
            name="currentPassword"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <div>
          <label for="new">New password</label>
          <input
            id="new"
            name="newPassword"
            type="password"
            autocomplete="new-password"
            minlength="${minLength}"
            required
            aria-describedby="new-help"
          />
          <p id="new-help" class="muted">
            At least ${minLength} characters. Your other sessions end.
          </p>
        </div>
        <button type="submit" class="primary">Change password</button>
      </form>`,
  );
}
