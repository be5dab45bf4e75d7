import { NotFoundException } from '@nestjs/common';
import { DomainError } from './domain-error';
import { problemForStatus, toProblem } from './problem';

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

  it('answers 503 with Retry-After for contention and exhaustion that outlasted retries', () => {
    for (const code of ['40P01', '40001', '57P01', '53300', '08006', 'ECONNRESET']) {
      const { problem, headers } = toProblem({ code, severity: 'ERROR', message: 'x' });
      expect({ code, status: problem.status, retry: headers?.['retry-after'] }).toEqual({
        code,
        status: 503,
        retry: '1',
      });
    }
    expect(toProblem(new Error('Connection terminated unexpectedly')).problem.status).toBe(503);
  });

  it('maps integrity violations (class 23) to 409 or 400, never 500', () => {
    const pg = (code: string) => ({ code, severity: 'ERROR', message: 'violates', column: 'x' });
    expect(toProblem(pg('23505')).problem).toMatchObject({ status: 409, code: 'conflict' });
    for (const code of ['23502', '23503', '23514', '23P01']) {
      expect(toProblem(pg(code)).problem).toMatchObject({
        status: 400,
        code: 'validation_failed',
        errors: [{ field: 'request', message: 'a value in the request cannot be stored' }],
      });
    }
  });

  it('gives every validation failure errors[], and lists at most 20 of them', () => {
    expect(toProblem({ code: '22007', severity: 'ERROR', message: 'bad' }).problem.errors).toEqual([
      { field: 'request', message: 'a value in the request cannot be stored' },
    ]);
    expect(toProblem({ statusCode: 400, message: 'bad url' }).problem.errors).toEqual([
      { field: 'request', message: 'bad url' },
    ]);
    const many = Array.from({ length: 50000 }, (_, i) => ({ field: `events.${i}`, message: 'x' }));
    const { problem } = toProblem(new DomainError('validation_failed', 'bad', many));
    expect(problem.errors).toHaveLength(20);
    expect(problem.errorCount).toBe(50000);
  });

  it('names framework statuses and keeps echoed details short', () => {
    const long = toProblem({ statusCode: 414, message: `'/${'a'.repeat(100000)}' is too long` });
    expect(long.problem).toMatchObject({
      status: 414,
      code: 'uri_too_long',
      title: 'URI Too Long',
    });
    expect(long.problem.detail.length).toBeLessThanOrEqual(301);
    expect(problemForStatus(405)).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });
});
