import { NotFoundException } from '@nestjs/common';
import { DomainError } from './domain-error';
import { toProblem } from './problem';

describe('toProblem', () => {
  it('maps domain errors with their code and field errors', () => {
    const { problem } = toProblem(DomainError.invalid('type', 'bad'));
    expect(problem).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ field: 'type', message: 'bad' }],
    });
    expect(toProblem(new DomainError('idempotency_conflict', 'x')).problem.status).toBe(409);
  });

  it('maps framework and parser errors to 4xx', () => {
    expect(toProblem(new NotFoundException()).problem).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(toProblem({ statusCode: 413, message: 'too big' }).problem).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    expect(toProblem({ code: 'unsafe_url', status: 422, message: 'no' }).problem.code).toBe(
      'unsafe_url',
    );
  });

  it('answers 503 when PostgreSQL or Redis is away', () => {
    expect(toProblem({ code: 'ECONNREFUSED', message: 'connect' }).problem.status).toBe(503);
    expect(
      toProblem({ code: '57P01', severity: 'FATAL', message: 'terminating' }).problem.status,
    ).toBe(503);
  });

  it('turns PostgreSQL data exceptions into 400 and hides everything else as 500', () => {
    expect(
      toProblem({ code: '22P05', severity: 'ERROR', message: 'unsupported Unicode' }).problem
        .status,
    ).toBe(400);
    const hidden = toProblem(new Error('connection string postgres://secret@host')).problem;
    expect(hidden).toMatchObject({
      status: 500,
      code: 'internal_error',
      detail: 'Unexpected error',
    });
  });
});
