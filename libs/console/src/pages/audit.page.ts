import type { AuditEntry, Checkpoint, ChainName, VerifyResult } from '@app/audit';
import { html, SafeHtml } from '../html';
import { notice, page, PageUser, when } from './layout';

export interface AuditFilter {
  chain: ChainName;
  type?: string;
  subject?: string;
}

function verifyBlock(v: VerifyResult | null): SafeHtml | string {
  if (!v) return '';
  if (v.ok) {
    return notice(
      'ok',
      `Intact: all ${v.entries} entries recomputed and every checkpoint matches (head seq ${v.head.seq}).`,
    );
  }
  return notice(
    'error',
    `Broken: the first break is at seq ${v.firstBreak.seq} (${v.firstBreak.reason}); ${v.entries} entries checked.`,
  );
}

export function auditPage(
  user: PageUser,
  f: AuditFilter,
  status: {
    head: { seq: number; hash: string } | null;
    checkpoint: Checkpoint | null;
    verify: VerifyResult | null;
  },
  entries: AuditEntry[],
  nextBefore: number | null,
): SafeHtml {
  const chainOpt = (c: ChainName) =>
    html`<option value="${c}" ${f.chain === c ? html` selected` : ''}>${c}</option>`;
  const q = (extra: Record<string, string>) => {
    const p = new URLSearchParams({ chain: f.chain });
    if (f.type) p.set('type', f.type);
    if (f.subject) p.set('subject', f.subject);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return `?${p.toString()}`;
  };
  return page(
    user,
    'audit',
    'Audit chain',
    html`<h1>Audit chain</h1>
      <h2>Status of the ${f.chain} chain</h2>
      ${verifyBlock(status.verify)}
      <dl class="facts">
        <dt>Head</dt>
        <dd>
          ${
            status.head
              ? html`seq ${status.head.seq}, hash <code>${status.head.hash}</code>`
              : 'No entries yet'
          }
        </dd>
        <dt>Last checkpoint</dt>
        <dd>
          ${
            status.checkpoint
              ? html`seq ${status.checkpoint.seq}, signed
                ${when(status.checkpoint.signedAt)}${
                  status.checkpoint.keyId
                    ? html` with key <code>${status.checkpoint.keyId}</code>`
                    : ''
                }`
              : 'None yet'
          }
        </dd>
      </dl>
      <form method="get" action="/console/audit" class="inline">
        <input type="hidden" name="chain" value="${f.chain}" />
        <input type="hidden" name="verify" value="1" />
        <button type="submit">Verify the ${f.chain} chain</button>
      </form>
      <h2>Entries</h2>
      <form
        class="filters"
        method="get"
        action="/console/audit"
        role="search"
        aria-label="Filter entries"
      >
        <div>
          <label for="a-chain">Chain</label
          ><select id="a-chain" name="chain">
            ${chainOpt('main')}${chainOpt('ai')}
          </select>
        </div>
        <div>
          <label for="a-type">Event type</label
          ><input id="a-type" name="type" value="${f.type ?? ''}" maxlength="128" />
        </div>
        <div>
          <label for="a-subject">Subject</label
          ><input id="a-subject" name="subject" value="${f.subject ?? ''}" maxlength="256" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <div class="table-wrap" role="region" aria-label="Audit entries" tabindex="0">
        <table>
          <thead>
            <tr>
              <th scope="col">Seq</th>
              <th scope="col">Type</th>
              <th scope="col">Subject</th>
              <th scope="col">Actor</th>
              <th scope="col">Occurred</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            ${entries.map(
              (e) =>
                html`<tr>
                  <td>${e.seq}</td>
                  <td>${e.type}</td>
                  <td>${e.subject ?? ''}</td>
                  <td>${e.actor.type}: ${e.actor.id}</td>
                  <td>${when(e.occurredAt)}</td>
                  <td class="hash">${e.hash.slice(0, 16)}…</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${entries.length === 0 ? html`<p>No entries match.</p>` : ''}
      ${nextBefore !== null ? html`<p><a href="/console/audit${q({ before: String(nextBefore) })}">Older entries</a></p>` : ''}`,
  );
}
