import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { DomainError } from '@app/platform';

export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords are refused before hashing: hashing cost must not be the caller's choice. */
export const MAX_PASSWORD_LENGTH = 256;

// OWASP's argon2id floor (19 MiB, 2 passes, 1 lane): ~30-60 ms here per hash.
const OPTIONS: argon2.HashOptions & { raw?: false } = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

/** A generated password: 24 characters of base64url (144 random bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export function checkPasswordRules(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw DomainError.invalid(field, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw DomainError.invalid(field, `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

/**
 * argon2id hashes. `verify` against an unknown account hashes against a dummy, so an unknown
 * email costs the same time as a wrong password.
 */
@Injectable()
export class PasswordHasher {
  private dummy?: Promise<string>;
  /** argon2 computations since start (the bench reads it: a login costs at most one). */
  hashes = 0;

  hash(password: string): Promise<string> {
    this.hashes++;
    return argon2.hash(password, OPTIONS);
  }

  /** `stored` null: an unknown account, checked against the dummy, always false. */
  async verify(stored: string | null, password: string): Promise<boolean> {
    const hash = stored ?? (await this.dummyHash());
    this.hashes++;
    try {
      const ok = await argon2.verify(hash, password);
      return ok && stored !== null;
    } catch {
      return false;
    }
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= argon2.hash(generatePassword(), OPTIONS);
    return this.dummy;
  }

  /** Computes the dummy hash ahead of the first login (called at start). */
  async warm(): Promise<void> {
    await this.dummyHash();
  }
}
