import { InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// Single modules, not the @app/platform barrel: this file is loaded for every command, --help too.
import { SCOPES, Scope } from '@app/platform/http/scopes';
import { UUID_PATTERN } from '@app/platform/time/clock';

/*
 * Start-up cost: the CLI's modules fall in two parts. This file, program.ts and commands/ declare
 * the commands and parse their arguments; they load only commander, Node and small constant modules
 * (no Nest, no lib barrel, no database driver), so --help, --version, usage errors and
 * `keys generate` answer at once. What a command does lives in actions/<group>.ts, which may load
 * anything (app-context.ts boots the Nest application) and is imported only when the command runs,
 * through lazyAction(). Dynamic imports use relative paths: the build rewrites @app/* aliases in
 * static imports only.
 */

/**
 * Exit codes: 0 done (for `audit verify`: intact); 1 failed (`audit verify`: the chain is
 * broken); 2 usage error, unknown tenant, or (`audit verify`) the chain could not be checked.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the CLI explains in one line and ends with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * The action `name` of the module `load` imports (an actions/ module), loaded when the command
 * runs: e.g. `.action(lazyAction(() => import('../actions/tenant.js'), 'list'))`.
 */
export function lazyAction<M extends Record<K, (...args: never[]) => unknown>, K extends keyof M>(
  load: () => Promise<M>,
  name: K,
): (...args: Parameters<M[K]>) => Promise<void> {
  return async (...args) => {
    await (await load())[name](...args);
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function uuidArg(value: string): string {
  if (!UUID_PATTERN.test(value)) throw new InvalidArgumentError('must be a UUID.');
  return value.toLowerCase();
}

export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return n;
}

export function scopesArg(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (!scopes.length || unknown.length) {
    throw new InvalidArgumentError(
      `${unknown.length ? `unknown scope ${unknown.join(', ')}; ` : ''}choose from ${SCOPES.join(', ')}.`,
    );
  }
  return [...new Set(scopes)] as Scope[];
}

/** The version in the project's package.json (found from dist/ or from the sources). */
export function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'ledgerline' && pkg.version) return pkg.version;
  }
  return '0.0.0';
}
