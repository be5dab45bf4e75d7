import { ValidationOptions, registerDecorator } from 'class-validator';
import * as ipaddr from 'ipaddr.js';

/** Names proxy-addr (fastify's trustProxy) accepts for well-known ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `a.b.c.d/n` or `x:y::z/n` with a real address and a prefix length that fits it. */
export function isCidr(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(value)) return false;
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

/** A CIDR, a single address, or one of proxy-addr's named ranges. */
export function isProxyRange(value: string): boolean {
  return NAMED_RANGES.has(value) || isCidr(value) || ipaddr.isValid(value);
}

/** Every element of a list setting must pass `check`; the message names the first bad one. */
function listOf(check: (v: string) => boolean, what: string, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: `isListOf${what}`,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) && value.every((v) => typeof v === 'string' && check(v)),
        defaultMessage: (args) => {
          const list = Array.isArray(args?.value) ? (args.value as unknown[]) : [args?.value];
          const bad = list.find((v) => typeof v !== 'string' || !check(v));
          return `must be a comma-separated list of ${what}; ${JSON.stringify(bad)} is not one`;
        },
      },
    });
}

/** e.g. `10.0.0.0/8, fd00::/8` */
export const IsCidrList = (options?: ValidationOptions) =>
  listOf(isCidr, 'CIDRs (like 10.0.0.0/8)', options);

/** e.g. `10.0.0.0/8, 192.168.1.5, loopback` */
export const IsProxyList = (options?: ValidationOptions) =>
  listOf(isProxyRange, 'CIDRs, addresses or loopback/linklocal/uniquelocal', options);
