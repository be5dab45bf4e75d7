import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { IsCidrList, IsProxyList } from './cidr';

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === 'true' || value === '1';
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

/** Every setting Ledgerline reads, validated once at start and then typed. */
export class LedgerlineConfig {
  @IsIn(['production', 'development', 'test'])
  NODE_ENV: 'production' | 'development' | 'test' = 'development';

  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ledgerline';

  /**
   * The schema owner, for migrations only; the API and worker run as DATABASE_URL's role, which
   * the migrate command grants only SELECT and INSERT on append-only tables. Unset: DATABASE_URL
   * (a single-user setup, warned about at start).
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  MIGRATION_DATABASE_URL?: string;

  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379/0';

  /** host:port,host:port,...: every Redis use goes to this Redis Cluster and REDIS_URL is ignored. */
  @Transform(toList)
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}$/, { each: true, message: 'must be host:port,host:port,...' })
  REDIS_CLUSTER_NODES: string[] = [];

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_PORT?: number;

  // BullMQ forbids ':' in names; braces are added around it for Redis Cluster hash tags.
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1-64 of A-Z a-z 0-9 _ . -' })
  QUEUE_PREFIX = 'ledgerline';

  @IsOptional()
  @IsString()
  LEDGERLINE_MASTER_KEY?: string;

  @IsOptional()
  @IsString()
  LEDGERLINE_MASTER_KEY_PREVIOUS?: string;

  @IsOptional()
  @IsString()
  LEDGERLINE_SIGNING_KEY?: string;

  /** Where development keys live when none are configured (shared by every local process). */
  @IsString()
  LEDGERLINE_DATA_DIR = '.ledgerline';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  PUBLIC_BASE_URL?: string;

  /** Outbound mail (consent confirmations, consented messages, approver notices). Unset: no mail. */
  @IsOptional()
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /**
   * SMTP connections each process keeps open. A send waits for its server's answer on every
   * command, so throughput is connections / round trip: 5 held a local server to ~1,600/s.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  SMTP_POOL_SIZE = 10;

  /** The sender of every mail Ledgerline sends. */
  @IsString()
  MAIL_FROM = 'Ledgerline <no-reply@ledgerline.invalid>';

  /** The HTTP provider that SMS and WhatsApp messages are POSTed to (behind the SSRF guard). */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  SMS_PROVIDER_URL?: string;

  /** Waits between a message's send attempts (SMTP or SMS provider failures); then it is failed. */
  @Matches(/^\s*\d+(ms|s|m|h)?(\s*,\s*\d+(ms|s|m|h)?)*\s*$/, {
    message: 'must be a comma-separated list of durations like 5s,5m,2h',
  })
  MESSAGE_RETRY_SCHEDULE = '5s,30s,2m,10m,1h';

  /**
   * How long a worker owns a message it is sending. A message whose owner died mid-send is sent
   * again (with the same Message-ID / Idempotency-Key) once this has passed; keep it above the
   * SMTP and SMS timeouts.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  MESSAGE_SEND_LEASE_MS = 60000;

  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_ALLOW_HTTP = false;

  @Transform(toList)
  @IsCidrList()
  WEBHOOK_ALLOWED_CIDRS: string[] = [];

  @IsOptional()
  @Matches(/^\s*\d+(ms|s|m|h)?(\s*,\s*\d+(ms|s|m|h)?)*\s*$/, {
    message: 'must be a comma-separated list of durations like 5s,5m,2h',
  })
  WEBHOOK_RETRY_SCHEDULE?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_DISABLE_AFTER_FAILURES = 15;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  WEBHOOK_DISABLE_AFTER_SECONDS = 86400;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120000)
  WEBHOOK_TIMEOUT_MS = 15000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  WEBHOOK_SECRET_OVERLAP_SECONDS = 86400;

  /**
   * The worker's sweeper re-queues a pending delivery once it is this long past due: its job is
   * presumed lost (a Redis flush, a crash, a lease that ran out). A younger backlog in Redis is
   * normal and left alone. Lower: lost work is found sooner, a long queue is swept more often.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WEBHOOK_SWEEP_GRACE_MS = 20000;

  /** How often that sweeper looks. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  WEBHOOK_SWEEP_EVERY_MS = 5000;

  /**
   * A claimed delivery stays leased to its worker for WEBHOOK_TIMEOUT_MS plus this margin: a
   * worker that dies mid-delivery leaves it to another once the lease runs out. The margin covers
   * recording the attempt after the receiver answered; lower only where workers are never slow.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WEBHOOK_LEASE_MARGIN_MS = 30000;

  @Transform(toList)
  @IsCidrList()
  METRICS_ALLOWED_CIDRS: string[] = [];

  /**
   * The proxies (load balancers) in front of the API: a request from one of them is taken to
   * come from the address in its X-Forwarded-For, which the per-IP limit and
   * METRICS_ALLOWED_CIDRS then see. Unset: no proxy is trusted and the peer address is used.
   */
  @Transform(toList)
  @IsProxyList()
  TRUST_PROXY: string[] = [];

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_KEY = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_IP = 20;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DATABASE_POOL_SIZE = 10;

  /** A chain with new entries is checkpointed at least this often... */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  AUDIT_CHECKPOINT_INTERVAL_MS = 60000;

  /** ...and at least every this many entries. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUDIT_CHECKPOINT_EVERY_ENTRIES = 1000;

  /** Worker threads one chain verify recomputes hashes on (0: one per core, at most 4). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(16)
  AUDIT_VERIFY_THREADS = 0;

  /** Chains of at least this many entries are verified in parallel ranges on worker threads. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUDIT_VERIFY_PARALLEL_FROM = 20000;

  get migrationDatabaseUrl(): string {
    return this.MIGRATION_DATABASE_URL ?? this.DATABASE_URL;
  }

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}

export class ConfigError extends Error {}

/** Reads and validates the environment; throws a ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerlineConfig {
  const known = Object.keys(new LedgerlineConfig());
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const config = plainToInstance(LedgerlineConfig, picked);
  const errors = validateSync(config, { forbidUnknownValues: false });
  const problems = errors.map(
    (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`,
  );
  if (config.isProduction && !config.LEDGERLINE_MASTER_KEY) {
    problems.push('LEDGERLINE_MASTER_KEY: required when NODE_ENV=production');
  }
  if (config.isProduction && !config.LEDGERLINE_SIGNING_KEY) {
    problems.push('LEDGERLINE_SIGNING_KEY: required when NODE_ENV=production');
  }
  if (config.SMTP_URL && !config.PUBLIC_BASE_URL) {
    // Mail carries links (unsubscribe, confirmation); they are never built from a Host header.
    problems.push('PUBLIC_BASE_URL: required when SMTP_URL is set (the links in mail use it)');
  }
  if (problems.length) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return config;
}
