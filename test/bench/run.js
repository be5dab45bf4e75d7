// `npm run bench`: runs every benchmark in this folder in turn; each prints JSON lines.
const { readdirSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const only = process.argv[2];
for (const file of readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .sort()) {
  if (only && !file.includes(only)) continue;
  execFileSync(process.execPath, [join(__dirname, file)], { stdio: 'inherit' });
}
