import { applyDecorators, Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSecurity,
  getSchemaPath,
} from '@nestjs/swagger';
import { RequireScope, Scope } from './auth-context';

/** The security scheme names the document declares (http-server.ts) and every route refers to. */
export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'apiKey';
export const PROBLEM_JSON = 'application/problem+json';

export class FieldErrorDto {
  @ApiProperty({ example: 'type' })
  field: string;

  @ApiProperty({ example: 'type must be a lowercase dotted name like invoice.paid' })
  message: string;
}

/** Every error answer (SPEC 2): RFC 9457 problem details plus a machine-readable `code`. */
export class ProblemDto {
  @ApiProperty({ example: 'https://ledgerline.dev/problems/not_found' })
  type: string;

  @ApiProperty({ example: 'Not Found' })
  title: string;

  @ApiProperty({ example: 404 })
  status: number;

  @ApiProperty({ example: 'Event not found' })
  detail: string;

  @ApiProperty({
    description:
      'validation_failed, unauthorized, tenant_mismatch, insufficient_scope, not_found, ' +
      'idempotency_conflict, reserved_type, unsafe_url, rate_limited, unavailable, …',
    example: 'not_found',
  })
  code: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'How many field errors there were, when not all are listed' })
  errorCount?: number;
}

/** A 400: `code` is `validation_failed` and `errors` says which fields failed and why. */
export class ValidationProblemDto {
  @ApiProperty({ example: 'https://ledgerline.dev/problems/validation_failed' })
  type: string;

  @ApiProperty({ example: 'Bad Request' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  @ApiProperty()
  detail: string;

  @ApiProperty({ enum: ['validation_failed'] })
  code: 'validation_failed';

  @ApiProperty({ type: [FieldErrorDto] })
  errors: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'How many field errors there were, when not all are listed' })
  errorCount?: number;
}

const WHY: Record<number, string> = {
  400: 'Invalid input (`validation_failed`, with `errors[]`)',
  401: 'Missing or unknown API key',
  403: "`insufficient_scope`, or `tenant_mismatch` when X-Tenant-Id is not the key's tenant",
  404: "Not found (another tenant's resource is answered 404 too)",
  409: 'Conflict',
  413: 'Body over the size limit',
  415: 'Body is not application/json',
  422: 'Refused (see `code`)',
  429: 'Rate limited; see Retry-After',
  503: 'A backing service is away or busy; retry after Retry-After',
};

/** problem+json answers for these statuses; `why` overrides the default description. */
export function ApiProblems(
  statuses: number[],
  why: Record<number, string> = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto, ValidationProblemDto, FieldErrorDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: why[status] ?? WHY[status] ?? 'Error',
        content: {
          [PROBLEM_JSON]: {
            schema: {
              $ref: getSchemaPath(status === 400 ? ValidationProblemDto : ProblemDto),
            },
          },
        },
      }),
    ),
  ) as MethodDecorator & ClassDecorator;
}

/**
 * An authenticated route: RequireScope's check plus its description in the document (either
 * security scheme, the scopes it accepts, the optional X-Tenant-Id, 401/403/429/503).
 */
export function Scoped(...scopes: Scope[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    RequireScope(...scopes),
    ApiBearerAuth(BEARER_SCHEME),
    ApiSecurity(API_KEY_SCHEME),
    ApiExtension('x-required-scopes', scopes),
    ApiHeader({
      name: 'X-Tenant-Id',
      required: false,
      description: "If given and not the key's tenant: 403 `tenant_mismatch`",
    }),
    ApiProblems([401, 403, 429, 503]),
  ) as MethodDecorator & ClassDecorator;
}

/** A public route's answers beyond its own: rate limits and a backing service being away. */
export const ApiPublic = () => ApiProblems([429, 503]);

/** `200 {data: [...], nextCursor}`: one page of a cursor-paginated list (SPEC 2). */
export function ApiPage(model: Type<unknown>, description = 'One page'): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: 200,
      description,
      schema: {
        type: 'object',
        required: ['data', 'nextCursor'],
        properties: {
          data: { type: 'array', items: { $ref: getSchemaPath(model) } },
          nextCursor: {
            type: 'string',
            nullable: true,
            description: 'Pass as ?cursor= for the next page; null on the last page',
          },
        },
      },
    }),
  );
}
