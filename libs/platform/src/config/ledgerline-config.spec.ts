import { ConfigError, loadConfig } from './ledgerline-config';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.QUEUE_PREFIX).toBe('ledgerline');
    expect(config.WEBHOOK_DISABLE_AFTER_FAILURES).toBe(15);
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(false);
    expect(config.WEBHOOK_SWEEP_GRACE_MS).toBe(20000);
    expect(config.WEBHOOK_SWEEP_EVERY_MS).toBe(5000);
    expect(config.WEBHOOK_LEASE_MARGIN_MS).toBe(30000);
    expect(config.SMTP_POOL_SIZE).toBe(10);
  });

  it('parses numbers, booleans and lists', () => {
    const config = loadConfig({
      PORT: '8080',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32, ::1/128',
    });
    expect(config.PORT).toBe(8080);
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(true);
    expect(config.WEBHOOK_ALLOWED_CIDRS).toEqual(['127.0.0.1/32', '::1/128']);
    const sweeper = loadConfig({ WEBHOOK_SWEEP_GRACE_MS: '1000', WEBHOOK_SWEEP_EVERY_MS: '100' });
    expect([sweeper.WEBHOOK_SWEEP_GRACE_MS, sweeper.WEBHOOK_SWEEP_EVERY_MS]).toEqual([1000, 100]);
    expect(loadConfig({ SMTP_POOL_SIZE: '3' }).SMTP_POOL_SIZE).toBe(3);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['MIGRATION_DATABASE_URL', 'mysql://x'],
    ['QUEUE_PREFIX', 'a:b'],
    ['NODE_ENV', 'staging'],
    ['WEBHOOK_RETRY_SCHEDULE', 'soon'],
    ['WEBHOOK_SWEEP_GRACE_MS', '999'],
    ['WEBHOOK_SWEEP_GRACE_MS', '2s'],
    ['WEBHOOK_SWEEP_EVERY_MS', '99'],
    ['WEBHOOK_SWEEP_EVERY_MS', '0.5'],
    ['WEBHOOK_LEASE_MARGIN_MS', '999'],
    ['SMTP_POOL_SIZE', '0'],
    ['WEBHOOK_ALLOWED_CIDRS', 'everything'],
    ['WEBHOOK_ALLOWED_CIDRS', '300.1.1.1/99'],
    ['METRICS_ALLOWED_CIDRS', '300.1.1.1/99'],
    ['METRICS_ALLOWED_CIDRS', '10.0.0.0/8,10.0.0.0/33'],
    ['METRICS_ALLOWED_CIDRS', '::1/129'],
    ['METRICS_ALLOWED_CIDRS', '10.0.0.1'],
    ['TRUST_PROXY', '300.1.1.1/99'],
    ['TRUST_PROXY', 'everyone'],
  ])('names a malformed %s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('requires the master and signing keys in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /LEDGERLINE_MASTER_KEY[\s\S]*LEDGERLINE_SIGNING_KEY/,
    );
  });

  it('migrates as MIGRATION_DATABASE_URL, defaulting to DATABASE_URL (one user)', () => {
    const app = 'postgres://ledgerline_app@db:5432/ledgerline';
    const owner = 'postgres://postgres@db:5432/ledgerline';
    expect(loadConfig({ DATABASE_URL: app }).migrationDatabaseUrl).toBe(app);
    const split = loadConfig({ DATABASE_URL: app, MIGRATION_DATABASE_URL: owner });
    expect([split.DATABASE_URL, split.migrationDatabaseUrl]).toEqual([app, owner]);
  });

  it('refuses production with the master key but without the signing key, and the reverse', () => {
    const withMaster = () =>
      loadConfig({ NODE_ENV: 'production', LEDGERLINE_MASTER_KEY: 'a'.repeat(64) });
    expect(withMaster).toThrow(ConfigError);
    expect(withMaster).toThrow('LEDGERLINE_SIGNING_KEY: required when NODE_ENV=production');
    expect(withMaster).not.toThrow(/LEDGERLINE_MASTER_KEY:/);
    const withSigning = () => loadConfig({ NODE_ENV: 'production', LEDGERLINE_SIGNING_KEY: 'pem' });
    expect(withSigning).toThrow('LEDGERLINE_MASTER_KEY: required when NODE_ENV=production');
    expect(withSigning).not.toThrow(/LEDGERLINE_SIGNING_KEY:/);
  });

  it('says which list element is not a CIDR', () => {
    expect(() => loadConfig({ METRICS_ALLOWED_CIDRS: '10.0.0.0/8, 300.1.1.1/99' })).toThrow(
      'METRICS_ALLOWED_CIDRS: must be a comma-separated list of CIDRs (like 10.0.0.0/8); "300.1.1.1/99" is not one',
    );
  });

  it('accepts real CIDRs, addresses and named ranges for TRUST_PROXY', () => {
    const config = loadConfig({
      METRICS_ALLOWED_CIDRS: '10.0.0.0/8, fd00::/8, 192.168.1.7/32',
      TRUST_PROXY: '10.1.0.0/16, 192.168.0.9, loopback, ::1',
    });
    expect(config.METRICS_ALLOWED_CIDRS).toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.7/32']);
    expect(config.TRUST_PROXY).toEqual(['10.1.0.0/16', '192.168.0.9', 'loopback', '::1']);
    expect(loadConfig({}).TRUST_PROXY).toEqual([]);
  });

  it('needs PUBLIC_BASE_URL when SMTP_URL is set (links in mail never come from Host)', () => {
    expect(() => loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25' })).toThrow(/PUBLIC_BASE_URL/);
    expect(() =>
      loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25', PUBLIC_BASE_URL: 'https://ll.example' }),
    ).not.toThrow();
  });
});
