#!/usr/bin/env node
// An agent's executor, to copy: submit an action, wait for its ai_action.approved webhook, check
// the webhook signature (Standard Webhooks) and the approval receipt (Ed25519, the audit key),
// execute exactly the approved input, report the outcome. Node 20+, node:crypto and canonicalize.
//
// Env: LEDGERLINE_URL, LEDGERLINE_API_KEY (scopes ai-actions:submit), WEBHOOK_SECRET (whsec_...),
//      PORT (where the webhook endpoint listens), ACTION_TYPE (default crm.note.add).
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const canonicalize = require('canonicalize').default ?? require('canonicalize');

const BASE = process.env.LEDGERLINE_URL;
const KEY = process.env.LEDGERLINE_API_KEY;
const SECRET = process.env.WEBHOOK_SECRET;
const PORT = Number(process.env.PORT || 8787);
const TYPE = process.env.ACTION_TYPE || 'crm.note.add';
const TOLERANCE_S = 300;

async function api(method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.code}`);
  return json;
}

/** Standard Webhooks: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> with the secret's bytes. */
function webhookValid(headers, body) {
  const id = headers['webhook-id'];
  const ts = Number(headers['webhook-timestamp']);
  if (!id || !ts || Math.abs(Date.now() / 1000 - ts) > TOLERANCE_S) return false;
  const key = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return (headers['webhook-signature'] || '').split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    const got = Buffer.from(value || '', 'base64');
    return (
      version === 'v1' && got.length === expected.length && crypto.timingSafeEqual(got, expected)
    );
  });
}

/** The receipt is signed over JCS of itself without `signature`; the key is the audit key. */
function receiptValid(receipt, publicKeyPem, keyId) {
  const { signature, ...signed } = receipt;
  if (receipt.keyId !== keyId) return false;
  return crypto.verify(
    null,
    Buffer.from(canonicalize(signed)),
    crypto.createPublicKey(publicKeyPem),
    Buffer.from(signature, 'base64'),
  );
}

/** SHA-256 of JCS({type, input, risk, policyVersion}): what the approvers approved. */
function inputHash(action) {
  const { type, input, risk, policyVersion } = action;
  return crypto
    .createHash('sha256')
    .update(canonicalize({ type, input, risk, policyVersion }))
    .digest('hex');
}

/** The actual work; here it only pretends to add a CRM note. */
async function execute(input) {
  return { noteId: `note_${crypto.randomUUID()}`, length: String(input.text || '').length };
}

function waitForApproval(actionId) {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (!webhookValid(req.headers, body)) {
          res.writeHead(401).end();
          return;
        }
        res.writeHead(204).end();
        const msg = JSON.parse(body);
        const data = msg.data && msg.data.data;
        if (!data || data.actionId !== actionId) return;
        if (msg.type === 'ai_action.approved') resolve({ server, data });
        if (['ai_action.rejected', 'ai_action.expired'].includes(msg.type)) {
          server.close();
          reject(new Error(`action ${msg.type.slice('ai_action.'.length)}`));
        }
      });
    });
    server.listen(PORT, '127.0.0.1');
  });
}

async function main() {
  const { publicKey, keyId } = await api('GET', '/v1/audit/public-key');
  const action = await api('POST', '/v1/ai-actions', {
    type: TYPE,
    initiator: 'autonomous',
    agent: { id: 'example-agent', model: 'example' },
    input: { contact: 'c_1', text: 'Called about the renewal.' },
    rationale: 'log the call',
  });
  log('submitted', { id: action.id, status: action.status });
  // Listen first, so an approval that arrives while we look is not missed.
  const approval = waitForApproval(action.id);
  const { server, data } = await approval;
  server.close();
  const receipt = data.receipt;
  const ok =
    receiptValid(receipt, publicKey, keyId) &&
    receipt.actionId === action.id &&
    receipt.inputHash === inputHash(data) &&
    receipt.inputHash === data.inputHash;
  if (!ok) {
    await api('POST', `/v1/ai-actions/${action.id}/outcome`, {
      status: 'failed',
      output: { error: 'receipt_invalid' },
    });
    throw new Error('the receipt does not match the input: not executing');
  }
  log('approved', { approvers: receipt.approvers.length, inputHash: receipt.inputHash });
  const output = await execute(data.input);
  const done = await api('POST', `/v1/ai-actions/${action.id}/outcome`, {
    status: 'succeeded',
    output,
    inputHash: receipt.inputHash,
  });
  log('reported', { id: done.id, status: done.status });
}

function log(step, fields) {
  process.stdout.write(`${JSON.stringify({ step, ...fields })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
