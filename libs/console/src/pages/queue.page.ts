import type { AiActionView } from '@app/approvals';
import { html, SafeHtml } from '../html';
import { age, notice, page, PageUser } from './layout';

export interface QueueFilter {
  risk?: 'low' | 'medium' | 'high';
  type?: string;
}

export const filterQuery = (f: QueueFilter, extra: Record<string, string> = {}) => {
  const q = new URLSearchParams();
  if (f.risk) q.set('risk', f.risk);
  if (f.type) q.set('type', f.type);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

const summary = (n: number, more: boolean) =>
  n === 0 ? 'No actions are waiting.' : `${more ? `${n}+` : n} waiting`;

function row(a: AiActionView, now: Date): SafeHtml {
  const approvals = `${a.approvals.length} of ${a.requiredApprovals}`;
  return html`<tr>
    <td><a id="action-${a.id}" href="/console/actions/${a.id}">${a.type}</a></td>
    <td class="risk-${a.risk}">${a.risk}</td>
    <td>
      ${a.agent.id}${a.agent.model ? html` <span class="muted">(${a.agent.model})</span>` : ''}
    </td>
    <td><time datetime="${a.createdAt}" title="${a.createdAt}">${age(a.createdAt, now)}</time></td>
    <td>${a.requestedBy ?? html`<span class="muted">${a.initiator}</span>`}</td>
    <td>${a.escalation ?? ''}</td>
    <td>${approvals}</td>
  </tr>`;
}

/** The rows of the open queue: what the page shows and what the live poll swaps in. */
export function queueRows(
  actions: AiActionView[],
  more: boolean,
  now: Date,
  liveSrc?: string,
): SafeHtml {
  return html`<tbody
    data-count="${actions.length}"
    data-summary="${summary(actions.length, more)}"
    ${liveSrc ? html` data-live="${liveSrc}"` : ''}
  >
    ${actions.map((a) => row(a, now))}
  </tbody>`;
}

export function queuePage(
  user: PageUser,
  f: QueueFilter,
  actions: AiActionView[],
  next: string | null,
  paged: boolean,
  now: Date,
): SafeHtml {
  const live = paged ? undefined : `/console/queue/rows${filterQuery(f)}`;
  const risk = (value: string, label: string) =>
    html`<option value="${value}" ${(f.risk ?? '') === value ? html` selected` : ''}>
      ${label}
    </option>`;
  return page(
    user,
    'queue',
    'Pending actions',
    html`<h1>Pending actions</h1>
      ${!user.canDecide && notice('warn', `Your role (${user.role}) can see the queue but not decide.`)}
      <form
        class="filters"
        method="get"
        action="/console"
        role="search"
        aria-label="Filter the queue"
      >
        <div>
          <label for="f-risk">Risk</label>
          <select id="f-risk" name="risk">
            ${risk('', 'Any')}${risk('low', 'Low')}${risk('medium', 'Medium')}${risk('high', 'High')}
          </select>
        </div>
        <div>
          <label for="f-type">Type</label>
          <input
            id="f-type"
            name="type"
            value="${f.type ?? ''}"
            maxlength="128"
            placeholder="e.g. crm.deal.update"
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      <p id="queue-count" role="status" aria-live="polite">
        ${summary(actions.length, next !== null)}
      </p>
      <div class="table-wrap" role="region" aria-labelledby="queue-caption" tabindex="0">
        <table>
          <caption id="queue-caption" class="muted">
            Oldest first${live ? '; new actions appear without reloading' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Risk</th>
              <th scope="col">Agent</th>
              <th scope="col">Age</th>
              <th scope="col">Requested by</th>
              <th scope="col">Escalation</th>
              <th scope="col">Approvals</th>
            </tr>
          </thead>
          ${queueRows(actions, next !== null, now, live)}
        </table>
      </div>
      ${next ? html`<p><a href="/console${filterQuery(f, { after: next })}">Next page</a></p>` : ''}`,
  );
}
