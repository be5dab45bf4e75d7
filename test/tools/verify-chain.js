#!/usr/bin/env node
// Standalone audit-chain verifier: an auditor can copy this file alone.
// Needs only Node's crypto and an RFC 8785 (JCS) library: `npm install canonicalize`.
//
//   node verify-chain.js export.ndjson [public-key.pem checkpoints.json]
//
// Recomputes every hash of a Ledgerline export (hash = SHA-256(32 raw bytes of prevHash ||
// UTF-8(JCS(entry without hash and prevHash)))), checks the links and seq 1..n, and, when given
// the public key and the checkpoints ({data: [...]} from GET /v1/audit/checkpoints), checks
// every Ed25519 checkpoint signature and that the chain matches each checkpoint.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const readline = require('node:readline');
const jcsModule = require('canonicalize');
const jcs = typeof jcsModule === 'function' ? jcsModule : jcsModule.default;

function entryHash(entry) {
  const { hash: _hash, prevHash, ...rest } = entry;
  return crypto
    .createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(jcs(rest), 'utf8')
    .digest('hex');
}

function loadCheckpoints(publicKeyFile, checkpointsFile) {
  const checkpoints = new Map();
  if (!publicKeyFile) return checkpoints;
  const key = crypto.createPublicKey(fs.readFileSync(publicKeyFile, 'utf8'));
  const list = JSON.parse(fs.readFileSync(checkpointsFile, 'utf8'));
  for (const c of Array.isArray(list) ? list : list.data) {
    const payload = jcs({
      tenantId: c.tenantId,
      chain: c.chain,
      seq: c.seq,
      hash: c.hash,
      signedAt: c.signedAt,
    });
    const ok = crypto.verify(
      null,
      Buffer.from(payload, 'utf8'),
      key,
      Buffer.from(c.signature, 'base64'),
    );
    checkpoints.set(c.seq, { hash: c.hash, ok });
  }
  return checkpoints;
}

async function verify(exportFile, publicKeyFile, checkpointsFile) {
  const checkpoints = loadCheckpoints(publicKeyFile, checkpointsFile);
  const lines = readline.createInterface({
    input: fs.createReadStream(exportFile),
    crlfDelay: Infinity,
  });
  let prevHash = '0'.repeat(64);
  let expected = 1;
  let entries = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line);
    const fail = (reason) => ({ ok: false, entries, firstBreak: { seq: entry.seq, reason } });
    if (entry.seq !== expected)
      return { ok: false, entries, firstBreak: { seq: expected, reason: 'sequence_gap' } };
    entries++;
    if (entryHash(entry) !== entry.hash) return fail('hash_mismatch');
    if (entry.prevHash !== prevHash) return fail('prev_hash_mismatch');
    const c = checkpoints.get(entry.seq);
    if (c && (!c.ok || c.hash !== entry.hash)) return fail('checkpoint_mismatch');
    prevHash = entry.hash;
    expected++;
  }
  return { ok: true, entries, head: { seq: expected - 1, hash: prevHash } };
}

module.exports = { verify, entryHash };

if (require.main === module) {
  const [file, publicKey, checkpoints] = process.argv.slice(2);
  if (!file) {
    process.stderr.write(
      'usage: node verify-chain.js export.ndjson [public-key.pem checkpoints.json]\n',
    );
    process.exit(2);
  }
  verify(file, publicKey, checkpoints).then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });
}
