// Peers measured beside Ledgerline in the same run. Each lives in its own folder under peers/
// with its own package.json and lockfile, installed on first use, so a peer's dependencies never
// enter the product's lockfile.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { Client } = require('pg');
const { PG_BASE } = require('./lib');

function install(name) {
  const dir = join(__dirname, 'peers', name);
  if (!existsSync(join(dir, 'node_modules'))) {
    process.stderr.write(`installing the bench peer ${name}\n`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], {
      cwd: dir,
      stdio: 'inherit',
    });
  }
  return dir;
}

async function admin(sql) {
  const client = new Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Emmett on PostgreSQL in a database of its own, appended to in a child process. */
class EmmettPeer {
  constructor(id) {
    this.dir = install('emmett');
    this.dbName = `ll_bench_emmett_${id}`;
  }

  async start() {
    await admin(`CREATE DATABASE "${this.dbName}"`);
    return this;
  }

  /** Events per second appended by `clients` concurrent appendToStream calls of `perAppend`. */
  append(clients, seconds, perAppend) {
    const out = execFileSync(
      process.execPath,
      [join(this.dir, 'append.mjs'), `${PG_BASE}/${this.dbName}`, clients, seconds, perAppend],
      { cwd: this.dir },
    );
    return JSON.parse(out.toString()).eventsPerSecond;
  }

  stop() {
    return admin(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
  }
}

module.exports = { EmmettPeer };
