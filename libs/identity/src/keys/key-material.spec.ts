import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerlineConfig } from '@app/platform';
import { ServiceKeyRepository } from '../service-key.repository';
import { KeyMaterial } from './key-material';

const inDir = (dir: string) =>
  new KeyMaterial({ LEDGERLINE_DATA_DIR: dir } as LedgerlineConfig, {} as ServiceKeyRepository)
    .secretBox.currentKeyId;

describe('KeyMaterial: the development master key', () => {
  it('is made once per data dir, owner-only, with no draft left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-keys-'));
    const first = inDir(dir);
    expect(inDir(dir)).toBe(first);
    expect(readdirSync(dir)).toEqual(['master.key']);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('uses the key another process put in place first, never a file it has not written yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-keys-'));
    const theirs = randomBytes(32).toString('base64');
    writeFileSync(join(dir, 'master.key'), theirs, { mode: 0o600 });
    const expected = new KeyMaterial(
      { LEDGERLINE_MASTER_KEY: theirs } as LedgerlineConfig,
      {} as ServiceKeyRepository,
    ).secretBox.currentKeyId;
    expect(inDir(dir)).toBe(expected);
    expect(readdirSync(dir)).toEqual(['master.key']);
  });
});
