import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import * as ipaddr from 'ipaddr.js';
import { SecurityError } from './security-error';

export interface SsrfGuardOptions {
  allowHttp: boolean;
  allowedCidrs: string[];
  lookup?: (host: string) => Promise<string[]>;
}

export interface CheckedDestination {
  url: URL;
  /** URL host name without IPv6 brackets. */
  host: string;
  /** Every address the host resolved to; all of them passed `isAllowedAddress`. */
  addresses: string[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/** Always refused, whatever ipaddr.js calls them and whatever `allowedCidrs` says. */
const HARD_DENY: ReadonlyArray<readonly [string, Cidr]> = [
  ['unspecified', ipaddr.parseCIDR('0.0.0.0/8')],
  ['cloud metadata', ipaddr.parseCIDR('169.254.169.254/32')],
  ['unspecified', ipaddr.parseCIDR('::/128')],
];

/**
 * Ranges that ipaddr.js reports as 'unicast' but which embed an IPv4 address or are otherwise
 * unsuitable: IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291).
 */
const EXTRA_DENY: ReadonlyArray<readonly [string, Cidr]> = [
  ['ipv4Compatible', ipaddr.parseCIDR('::/96')],
];

const IPV4_MAPPED_PREFIX = 96;
/** Verdicts kept per address (a webhook worker checks the same few before every attempt). */
const VERDICTS_KEPT = 10000;

async function defaultLookup(host: string): Promise<string[]> {
  const results = await dns.lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}

/**
 * The host did not resolve (ENOTFOUND, EAI_AGAIN…) or resolved to no address. Still `unsafe_url`
 * for a URL being accepted; at delivery the attempt records it as a DNS failure, not a block.
 */
export class UnresolvedHostError extends SecurityError {
  constructor(message: string) {
    super('unsafe_url', 422, message);
    this.name = 'UnresolvedHostError';
  }
}

function unsafe(message: string): SecurityError {
  return new SecurityError('unsafe_url', 422, message);
}

function matches(addr: Address, [range, bits]: Cidr): boolean {
  return addr.kind() === range.kind() && addr.match(range, bits);
}

/** Normalises a CIDR so that `::ffff:a.b.c.d/n` (n ≥ 96) also matches the unwrapped IPv4. */
function parseAllowedCidr(cidr: string): Cidr {
  let parsed: Cidr;
  try {
    parsed = ipaddr.parseCIDR(cidr.trim());
  } catch {
    throw new Error(`invalid CIDR in allowedCidrs: ${JSON.stringify(cidr)}`);
  }
  const [range, bits] = parsed;
  if (range instanceof ipaddr.IPv6 && range.isIPv4MappedAddress() && bits >= IPV4_MAPPED_PREFIX) {
    return [range.toIPv4Address(), bits - IPV4_MAPPED_PREFIX];
  }
  return parsed;
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Validates outbound (webhook) destinations: scheme, no credentials, and every address the host
 * resolves to must be public unicast unless it is inside one of `allowedCidrs`.
 *
 * Callers must connect to one of the returned `addresses` (not re-resolve the name) so DNS
 * rebinding cannot swap in another address after the check.
 */
export class SsrfGuard {
  private readonly allowHttp: boolean;
  private readonly allowed: Cidr[];
  private readonly lookup: (host: string) => Promise<string[]>;
  // A verdict depends only on the address text and this guard's fixed settings, so it is kept:
  // parsing and range matching cost more than the rest of an attempt's check. Emptied when full.
  private readonly verdicts = new Map<string, string | null>();

  constructor(opts: SsrfGuardOptions) {
    this.allowHttp = opts.allowHttp;
    this.allowed = (opts.allowedCidrs ?? []).filter((c) => c.trim() !== '').map(parseAllowedCidr);
    this.lookup = opts.lookup ?? defaultLookup;
  }

  /**
   * Parses and validates the URL syntax and scheme. Not an absolute URL → `validation_failed`
   * (400); wrong scheme or credentials → `unsafe_url` (422).
   */
  parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SecurityError('validation_failed', 400, 'url must be an absolute URL');
    }
    const scheme = url.protocol;
    if (scheme !== 'https:' && !(scheme === 'http:' && this.allowHttp)) {
      throw unsafe(
        scheme === 'http:'
          ? 'url must use https (http is not allowed)'
          : `url scheme ${scheme.replace(/:$/, '')} is not allowed; use https`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw unsafe('url must not contain credentials');
    }
    if (url.hostname === '') {
      throw new SecurityError('validation_failed', 400, 'url must be an absolute URL with a host');
    }
    return url;
  }

  /**
   * Parses the URL, resolves its host (unless it is an IP literal) and checks every address.
   * Throws `unsafe_url` if any address is refused or the host does not resolve.
   */
  async check(raw: string): Promise<CheckedDestination> {
    const url = this.parse(raw);
    const host = stripBrackets(url.hostname);
    let addresses: string[];
    if (isIP(host) !== 0) {
      addresses = [host];
    } else {
      try {
        addresses = await this.lookup(host);
      } catch {
        throw new UnresolvedHostError(`host ${host} could not be resolved`);
      }
    }
    addresses = [...new Set(addresses)];
    if (addresses.length === 0) {
      throw new UnresolvedHostError(`host ${host} did not resolve to any address`);
    }
    for (const address of addresses) {
      const refused = this.refusal(address);
      if (refused !== null) {
        throw unsafe(`destination ${host} resolves to a ${refused} address (${address})`);
      }
    }
    return { url, host, addresses };
  }

  /** True when the address may be connected to (see class doc). Unparseable input is refused. */
  isAllowedAddress(ip: string): boolean {
    return this.refusal(ip) === null;
  }

  /** Null when allowed, otherwise the name of the address class that is refused. */
  private refusal(ip: string): string | null {
    if (typeof ip !== 'string') return 'invalid';
    let verdict = this.verdicts.get(ip);
    if (verdict === undefined) {
      verdict = this.judge(ip);
      if (this.verdicts.size >= VERDICTS_KEPT) this.verdicts.clear();
      this.verdicts.set(ip, verdict);
    }
    return verdict;
  }

  private judge(ip: string): string | null {
    const text = stripBrackets(ip.trim());
    // Only canonical literals: dotted-quad IPv4 or IPv6 (never 0x7f.1 / 2130706433 forms).
    if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) {
      return 'invalid';
    }
    let addr: Address;
    try {
      addr = ipaddr.process(text);
    } catch {
      return 'invalid';
    }
    for (const [name, cidr] of HARD_DENY) {
      if (matches(addr, cidr)) {
        return name;
      }
    }
    if (this.allowed.some((cidr) => matches(addr, cidr))) {
      return null;
    }
    const range = addr.range();
    if (range !== 'unicast') {
      return range;
    }
    for (const [name, cidr] of EXTRA_DENY) {
      if (matches(addr, cidr)) {
        return name;
      }
    }
    return null;
  }
}
