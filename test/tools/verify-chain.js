#!/usr/bin/env node
// Standalone audit-chain verifier: an auditor can copy this file alone.
// Needs only Node's crypto and an RFC 8785 (JCS) library: `npm install canonicalize`.
//
//   node verify-chain.js export.ndjson [keys checkpoints.json]
//
// Recomputes every hash of a Ledgerline export (hash = SHA-256(32 raw bytes of prevHash ||
// UTF-8(JCS(entry without hash and prevHash)))), checks the links and seq 1..n, and, when given
// the keys and the checkpoints ({data: [...]} from GET /v1/audit/checkpoints), checks every
// Ed25519 checkpoint signature with the key its keyId names and that the chain matches each
// checkpoint. `keys` is either one PEM public key (GET /v1/audit/public-key) or the JSON of
// GET /v1/audit/public-keys ({data: [{keyId, publicKey}]}), for checkpoints from before and
// after a key rotation. A checkpoint without a keyId (signed before keyIds were recorded) may
// match any of the keys.
//
// Trust: this tool trusts exactly the keys it is given; whom to trust is the auditor's decision.
// Take them from a source the database owner cannot rewrite (keys published or recorded when they
// were first used, not a fresh copy read through the database), since whoever owns the database
// can list keys of their own. The service itself lists only keys it endorsed (sealed under its
// master key), but this tool cannot check endorsements: it never holds the master key.
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

/** keyId: lowercase hex SHA-256 of the key's SPKI DER. */
function keyIdOf(key) {
  return crypto
    .createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** keyId -> public key, from one PEM or from {data: [{keyId, publicKey}]}. */
function loadKeys(keysFile) {
  const text = fs.readFileSync(keysFile, 'utf8');
  const pems = text.trimStart().startsWith('-----BEGIN')
    ? [text]
    : JSON.parse(text).data.map((k) => k.publicKey);
  const keys = new Map();
  for (const pem of pems) {
    const key = crypto.createPublicKey(pem);
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

function signedBy(keys, keyId, payload, signature) {
  const candidates = keyId ? [keys.get(keyId)].filter(Boolean) : [...keys.values()];
  return candidates.some((key) => crypto.verify(null, payload, key, signature));
}

function loadCheckpoints(keysFile, checkpointsFile) {
  const checkpoints = new Map();
  if (!keysFile) return checkpoints;
  const keys = loadKeys(keysFile);
  const list = JSON.parse(fs.readFileSync(checkpointsFile, 'utf8'));
  for (const c of Array.isArray(list) ? list : list.data) {
    const payload = jcs({
      tenantId: c.tenantId,
      chain: c.chain,
      seq: c.seq,
      hash: c.hash,
      signedAt: c.signedAt,
    });
    const ok = signedBy(
      keys,
      c.keyId ?? null,
      Buffer.from(payload, 'utf8'),
      Buffer.from(c.signature, 'base64'),
    );
    checkpoints.set(c.seq, { hash: c.hash, ok });
  }
  return checkpoints;
}

async function verify(exportFile, keysFile, checkpointsFile) {
  const checkpoints = loadCheckpoints(keysFile, checkpointsFile);
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
    // the link first: a changed prevHash alone is a broken link, not changed content
    if (entry.prevHash !== prevHash) return fail('prev_hash_mismatch');
    if (entryHash(entry) !== entry.hash) return fail('hash_mismatch');
    const c = checkpoints.get(entry.seq);
    if (c && (!c.ok || c.hash !== entry.hash)) return fail('checkpoint_mismatch');
    prevHash = entry.hash;
    expected++;
  }
  return { ok: true, entries, head: { seq: expected - 1, hash: prevHash } };
}

module.exports = { verify, entryHash, keyIdOf };

if (require.main === module) {
  const [file, keys, checkpoints] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node verify-chain.js export.ndjson [keys checkpoints.json]\n');
    process.exit(2);
  }
  verify(file, keys, checkpoints).then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });
}
