import { html, SafeHtml } from '../html';
import { barePage, notice } from './layout';

export function loginPage(opts: { error?: string; next?: string; signedOut?: boolean }): SafeHtml {
  const message =
    opts.error === 'locked'
      ? notice('error', 'Too many failed sign-ins: this account is locked for 15 minutes.')
      : opts.error
        ? notice('error', 'The email or password is not right.')
        : opts.signedOut
          ? notice('ok', 'You are signed out.')
          : '';
  return barePage(
    'Sign in',
    html`<h1>Sign in to Ledgerline</h1>
      ${message}
      <form method="post" action="/auth/login">
        ${opts.next ? html`<input type="hidden" name="next" value="${opts.next}" />` : ''}
        <div>
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required autofocus />
        </div>
        <div>
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <button type="submit" class="primary">Sign in</button>
      </form>`,
  );
}
