import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem';

export function sendProblem(reply: FastifyReply, err: unknown, req?: FastifyRequest): void {
  const { problem, headers } = toProblem(err);
  if (problem.status >= 500) {
    const logger = req?.log;
    const message = err instanceof Error ? err.stack : String(err);
    if (logger) logger.error({ err: message }, 'unhandled error');
    else new Logger('Problem').error(message);
  }
  if (headers) reply.headers(headers);
  reply.status(problem.status).type('application/problem+json').send(problem);
}

/** The one place where errors become HTTP answers (application/problem+json). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), err, http.getRequest<FastifyRequest>());
  }
}
