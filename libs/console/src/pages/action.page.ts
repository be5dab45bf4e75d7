import type { AiActionDetail, Principal } from '@app/approvals';
import { html, Interpolated, SafeHtml } from '../html';
import { csrfField, notice, page, PageUser, when } from './layout';

export interface ActionPageState {
  /** Set after a decision was recorded (the redirect back). */
  decided?: 'approve' | 'reject';
  /** The decision was refused because the input changed since the page was shown. */
  revised?: boolean;
  /** Any other refusal, in words. */
  error?: string;
  /** What the approver typed, kept when the decision was not recorded. */
  reason?: string;
}

const who = (p: Principal | undefined | null) =>
  p ? (p.type === 'user' ? `user ${p.id}` : `API key ${p.id}`) : 'Ledgerline';

function decisionBlock(user: PageUser, userId: string, a: AiActionDetail, s: ActionPageState) {
  if (a.status !== 'pending_approval') return '';
  if (!user.canDecide) {
    return notice('warn', `Your role (${user.role}) can see this action but not decide it.`);
  }
  if (a.requestedBy !== null && a.requestedBy === userId) {
    return notice(
      'warn',
      'You requested this action: another approver must decide it (separation of duties).',
    );
  }
  if (a.approvals.some((p) => p.type === 'user' && p.id === userId)) {
    return notice(
      'ok',
      `You have approved this input. It needs ${a.requiredApprovals - a.approvals.length} more approval(s) from other approvers.`,
    );
  }
  return html`<form class="decision" method="post" action="/console/actions/${a.id}/decision">
    <h2 id="decide-heading">Decide</h2>
    ${csrfField(user)}
    <input type="hidden" name="inputHash" value="${a.inputHash}" />
    <label for="reason">Reason</label>
    <textarea id="reason" name="reason" maxlength="2000" aria-describedby="reason-help">
${s.reason ?? ''}</textarea>
    <p id="reason-help" class="muted">
      Required to reject. Your decision applies to input hash
      <code>${a.inputHash.slice(0, 16)}…</code> exactly as shown.
    </p>
    <div class="buttons">
      <button type="submit" name="decision" value="approve" class="primary">Approve</button>
      <button type="submit" name="decision" value="reject" class="danger">Reject</button>
    </div>
  </form>`;
}

function history(a: AiActionDetail): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-labelledby="history-heading" tabindex="0">
    <table>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">When</th>
          <th scope="col">By</th>
          <th scope="col">Reason</th>
          <th scope="col">Input hash</th>
        </tr>
      </thead>
      <tbody>
        ${a.history.map(
          (h) =>
            html`<tr>
              <td>
                ${h.kind}${h.void ? html` <strong>(void: the input was revised after it)</strong>` : ''}
              </td>
              <td>${when(h.at)}</td>
              <td>
                ${h.principal ? who(h.principal) : h.kind === 'submitted' ? `agent ${a.agent.id}` : 'Ledgerline'}
              </td>
              <td>${h.reason ?? ''}</td>
              <td class="hash">${h.inputHash ? h.inputHash.slice(0, 16) + '…' : ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function actionPage(
  user: PageUser,
  userId: string,
  a: AiActionDetail,
  s: ActionPageState = {},
): SafeHtml {
  const messages: Interpolated[] = [];
  if (s.decided === 'approve') messages.push(notice('ok', 'Your approval was recorded.'));
  if (s.decided === 'reject') messages.push(notice('ok', 'Your rejection was recorded.'));
  if (s.revised) {
    messages.push(
      notice(
        'warn',
        'This action was revised since you opened it. Nothing was recorded: review the new input below and decide again.',
      ),
    );
  }
  if (s.error) messages.push(notice('error', s.error));
  const quorum =
    a.requiredApprovals > 0
      ? `${a.approvals.length} of ${a.requiredApprovals} approvals`
      : 'No approval needed';
  return page(
    user,
    'action',
    `${a.type}`,
    html`<p><a href="/console">← Back to the queue</a></p>
      <h1>${a.type}</h1>
      ${messages}
      <dl class="facts">
        <dt>Status</dt>
        <dd id="action-status">${a.status}</dd>
        <dt>Risk</dt>
        <dd class="risk-${a.risk}">${a.risk}</dd>
        <dt>Approvals</dt>
        <dd>
          ${quorum}${
            a.approvals.length
              ? html` <span class="muted">(${a.approvals.map(who).join(', ')})</span>`
              : ''
          }
        </dd>
        <dt>Agent</dt>
        <dd>${a.agent.id}${a.agent.model ? ` (${a.agent.model})` : ''}</dd>
        <dt>Initiator</dt>
        <dd>${a.initiator}</dd>
        <dt>Requested by</dt>
        <dd>${a.requestedBy ?? '—'}</dd>
        <dt>Escalation</dt>
        <dd>${a.escalation ?? '—'}</dd>
        <dt>Policy version</dt>
        <dd>${a.policyVersion}</dd>
        <dt>Input hash</dt>
        <dd><code id="input-hash">${a.inputHash}</code></dd>
        <dt>Submitted</dt>
        <dd>${when(a.createdAt)}</dd>
        <dt>Expires</dt>
        <dd>${when(a.expiresAt)}</dd>
      </dl>
      <h2>Rationale</h2>
      <p>${a.rationale ?? html`<span class="muted">None given.</span>`}</p>
      <h2 id="input-heading">Input</h2>
      <pre aria-labelledby="input-heading" tabindex="0">${JSON.stringify(a.input, null, 2)}</pre>
      ${decisionBlock(user, userId, a, s)}
      <h2 id="history-heading">History</h2>
      ${history(a)}`,
  );
}
