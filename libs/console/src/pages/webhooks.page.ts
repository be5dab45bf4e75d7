import type { EndpointView, toDeliveryView } from '@app/webhooks';
import { html, SafeHtml } from '../html';
import { csrfField, notice, page, PageUser, when } from './layout';

type DeliveryView = ReturnType<typeof toDeliveryView>;

export function webhooksPage(user: PageUser, endpoints: EndpointView[]): SafeHtml {
  return page(
    user,
    'webhooks',
    'Webhook endpoints',
    html`<h1>Webhook endpoints</h1>
      <div class="table-wrap" role="region" aria-label="Endpoints" tabindex="0">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Status</th>
              <th scope="col">Event types</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${endpoints.map(
              (e) =>
                html`<tr>
                  <td><a href="/console/webhooks/${e.id}">${e.url}</a></td>
                  <td>
                    ${e.status}${e.disabledReason ? html` <span class="muted">(${e.disabledReason})</span>` : ''}
                  </td>
                  <td>${e.eventTypes.join(', ')}</td>
                  <td>${when(e.createdAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${endpoints.length === 0 ? html`<p>No endpoints yet.</p>` : ''}`,
  );
}

export function endpointPage(
  user: PageUser,
  e: EndpointView,
  deliveries: DeliveryView[],
  message?: { kind: 'ok' | 'error'; text: string },
): SafeHtml {
  const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 16);
  return page(
    user,
    'webhooks',
    `Endpoint ${e.url}`,
    html`<p><a href="/console/webhooks">← All endpoints</a></p>
      <h1>Endpoint</h1>
      ${message && notice(message.kind, message.text)}
      <dl class="facts">
        <dt>URL</dt>
        <dd>${e.url}</dd>
        <dt>Status</dt>
        <dd id="endpoint-status">${e.status}</dd>
        ${
          e.disabledReason
            ? html`<dt>Disabled because</dt>
                <dd>${e.disabledReason}</dd>`
            : ''
        }
        <dt>Event types</dt>
        <dd>${e.eventTypes.join(', ')}</dd>
        <dt>Description</dt>
        <dd>${e.description ?? '—'}</dd>
      </dl>
      ${
        e.status === 'disabled'
          ? html`<form method="post" action="/console/webhooks/${e.id}/enable" class="inline">
              ${csrfField(user)}
              <button type="submit" class="primary">Enable</button>
            </form>`
          : ''
      }
      <form method="post" action="/console/webhooks/${e.id}/recover" class="filters">
        ${csrfField(user)}
        <div>
          <label for="since">Recover deliveries since (UTC)</label>
          <input id="since" name="since" type="datetime-local" value="${since}" required />
        </div>
        <button type="submit">Recover</button>
      </form>
      <h2>Recent deliveries</h2>
      <div class="table-wrap" role="region" aria-label="Deliveries" tabindex="0">
        <table>
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              <th scope="col">Next attempt</th>
            </tr>
          </thead>
          <tbody>
            ${deliveries.map(
              (d) =>
                html`<tr>
                  <td>${d.eventType}</td>
                  <td>${d.status}</td>
                  <td>
                    ${d.attemptCount}${
                      d.attempts.length
                        ? html`<ul>
                            ${d.attempts.map(
                              (a) =>
                                html`<li>
                                  ${when(a.attemptedAt)}: ${a.statusCode ?? a.error ?? 'no answer'}
                                  (${a.durationMs} ms)
                                </li>`,
                            )}
                          </ul>`
                        : ''
                    }
                  </td>
                  <td>${when(d.createdAt)}</td>
                  <td>${when(d.nextAttemptAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${deliveries.length === 0 ? html`<p>No deliveries yet.</p>` : ''}`,
  );
}
