#!/usr/bin/env node
// Prints the unit tier's statement and branch coverage per app and lib (from jest's
// json-summary), so CI's log shows where the unit tests are thin.
const { readFileSync } = require('node:fs');
const { join, relative, sep } = require('node:path');

const root = join(__dirname, '..', '..');
const summary = JSON.parse(readFileSync(join(root, 'coverage/coverage-summary.json'), 'utf8'));
const groups = new Map();
for (const [file, figures] of Object.entries(summary)) {
  if (file === 'total') continue;
  const [top, name] = relative(root, file).split(sep);
  const key = `${top}/${name}`;
  const sum = groups.get(key) ?? { covered: 0, total: 0, bCovered: 0, bTotal: 0 };
  sum.covered += figures.statements.covered;
  sum.total += figures.statements.total;
  sum.bCovered += figures.branches.covered;
  sum.bTotal += figures.branches.total;
  groups.set(key, sum);
}
const pct = (covered, total) => (total ? ((100 * covered) / total).toFixed(1) : '100.0');
console.log('unit coverage by module   statements   branches');
for (const [key, s] of [...groups].sort()) {
  console.log(
    `${key.padEnd(26)}${`${pct(s.covered, s.total)} %`.padStart(10)}${`${pct(s.bCovered, s.bTotal)} %`.padStart(11)}`,
  );
}
const t = summary.total;
console.log(
  `${'total'.padEnd(26)}${`${t.statements.pct} %`.padStart(10)}${`${t.branches.pct} %`.padStart(11)}`,
);
