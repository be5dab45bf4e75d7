import {
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Param,
  PipeTransform,
  SetMetadata,
} from '@nestjs/common';
import { UUID_PATTERN } from '../time/clock';
import { DomainError } from './domain-error';
import type { Scope } from './scopes';

// In a module of their own (no Nest): the CLI parses --scopes without loading the framework.
export { SCOPES, type Scope } from './scopes';

/** Who is calling: set by the API-key guard, read by controllers. */
export interface AuthContext {
  tenantId: string;
  /** The API key; for a browser session `user:<userId>` (what per-key rate limits count). */
  keyId: string;
  scopes: ReadonlySet<Scope>;
  /** Set for a signed-in person (a console session): decisions are then the user's. */
  userId?: string;
}

/** Whether `scopes` grant one of `needed` (`admin` grants all; nothing needed: yes). */
export function grants(scopes: ReadonlySet<Scope>, needed: readonly Scope[]): boolean {
  return !needed.length || scopes.has('admin') || needed.some((s) => scopes.has(s));
}

export const REQUIRED_SCOPES = 'ledgerline:scopes';
export const PUBLIC_ROUTE = 'ledgerline:public';

/** The caller needs any one of these scopes (`admin` always passes). */
export const RequireScope = (...scopes: Scope[]) => SetMetadata(REQUIRED_SCOPES, scopes);
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  return ctx.switchToHttp().getRequest<{ auth: AuthContext }>().auth;
});

/** A path id that must be a UUID; anything else is answered 404 as if it did not exist. */
export const UuidParam = (name: string) => Param(name, new ParseUuidOr404Pipe());

@Injectable()
export class ParseUuidOr404Pipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw DomainError.notFound('Resource');
    return value.toLowerCase();
  }
}
