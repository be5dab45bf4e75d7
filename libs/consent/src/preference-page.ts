import { Channel, CHANNELS, ConsentStates } from './consent.types';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export const CHANNEL_NAMES: Record<Channel, string> = {
  email: 'Email',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  phone: 'Phone calls',
  postal: 'Post',
};

const STATE_TEXT: Record<string, string> = {
  unknown: 'not asked yet',
  granted: 'allowed',
  withdrawn: 'not allowed (withdrawn)',
  denied: 'not allowed',
  pending_confirmation: 'waiting for your confirmation',
};

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/preference-centre.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/**
 * The preference centre: each channel's state as text and a fieldset of two labelled radio
 * buttons; plain form posts (no script), each carrying the link's form token.
 */
export function preferencePage(opts: {
  action: string;
  /** Null for an unsubscribe link, which cannot erase. */
  eraseAction: string | null;
  formToken: string;
  states: ConsentStates;
  notice?: string;
}): string {
  const fieldsets = CHANNELS.map((ch) => {
    const state = opts.states[ch].status;
    const allow = state === 'granted' || state === 'pending_confirmation';
    const deny = state === 'withdrawn' || state === 'denied';
    return `<fieldset>
<legend>${CHANNEL_NAMES[ch]}</legend>
<p id="state-${ch}">${CHANNEL_NAMES[ch]}: <strong>${STATE_TEXT[state]}</strong></p>
<div><input type="radio" id="${ch}-granted" name="${ch}" value="granted"${allow ? ' checked' : ''} aria-describedby="state-${ch}"><label for="${ch}-granted">Allow ${CHANNEL_NAMES[ch]}</label></div>
<div><input type="radio" id="${ch}-withdrawn" name="${ch}" value="withdrawn"${deny ? ' checked' : ''} aria-describedby="state-${ch}"><label for="${ch}-withdrawn">Do not allow ${CHANNEL_NAMES[ch]}</label></div>
</fieldset>`;
  }).join('\n');
  const notice = opts.notice ? `<p role="status" class="notice">${esc(opts.notice)}</p>\n` : '';
  return layout(
    'Your communication preferences',
    `<h1>Your communication preferences</h1>
${notice}<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="csrf" value="${esc(opts.formToken)}">
${fieldsets}
<button type="submit">Save preferences</button>
</form>${opts.eraseAction ? eraseForm(opts.eraseAction, opts.formToken) : ''}`,
  );
}

function eraseForm(action: string, formToken: string): string {
  return `
<h2>Delete your data</h2>
<form method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(formToken)}">
<div><input type="checkbox" id="erase-confirm" name="confirm" value="yes" required><label for="erase-confirm">Yes, delete my personal data</label></div>
<button type="submit">Delete my data</button>
</form>`;
}

/** Double opt-in: a GET only shows this; the button's POST confirms (a prefetch never does). */
export function confirmPage(action: string, formToken: string): string {
  return layout(
    'Confirm your subscription',
    `<h1>Confirm your subscription</h1>
<form method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(formToken)}">
<button type="submit">Confirm</button>
</form>`,
  );
}

export function messagePage(title: string, text: string): string {
  return layout(title, `<h1>${esc(title)}</h1>\n<p role="status">${esc(text)}</p>`);
}

export const PREFERENCE_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#1a1a1a}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
fieldset{border:1px solid #767676;border-radius:4px;margin:0 0 1rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{margin-left:.4rem}
div{margin:.3rem 0}
button{margin-top:.5rem;padding:.5rem 1rem;font-size:1rem;border:1px solid #1a1a1a;border-radius:4px;background:#fff;color:#1a1a1a;cursor:pointer}
button:focus,input:focus{outline:3px solid #005fcc;outline-offset:2px}
.notice{background:#e7f3e7;border:1px solid #2e7d32;padding:.5rem 1rem;border-radius:4px}
`;
