import { Injectable } from '@nestjs/common';
import { AiActionExecutor, ExecutionRequest, ExecutionResult } from '@app/approvals';
import { CATEGORIES, CHANNELS, Category, Channel } from '@app/consent';
import { UUID_PATTERN } from '@app/platform';
import { MessageService } from './message.service';

/**
 * The built-in executor for approved `message.send` AI actions (SPEC 6): the input
 * `{contactId, channel, category, subject?, body}` goes through the same consent gate as
 * `POST /v1/messages`. The message id is the action id, so a second run creates nothing.
 */
@Injectable()
export class MessageSendExecutor implements AiActionExecutor {
  readonly type = 'message.send';

  constructor(private readonly messages: MessageService) {}

  async execute(req: ExecutionRequest): Promise<ExecutionResult> {
    const i = req.input;
    const invalid = (why: string): ExecutionResult => ({
      status: 'failed',
      output: { error: 'invalid_input', detail: why },
    });
    if (typeof i.contactId !== 'string' || !UUID_PATTERN.test(i.contactId)) {
      return invalid('contactId must be a UUID');
    }
    if (!CHANNELS.includes(i.channel as Channel)) return invalid('unknown channel');
    if (!CATEGORIES.includes(i.category as Category)) return invalid('unknown category');
    if (typeof i.body !== 'string' || !i.body) return invalid('body must be a non-empty string');
    if (i.subject !== undefined && i.subject !== null && typeof i.subject !== 'string') {
      return invalid('subject must be a string');
    }
    try {
      const m = await this.messages.accept(
        req.tenantId,
        { type: 'ai_agent', id: `ai_action:${req.actionId}` },
        {
          contactId: i.contactId.toLowerCase(),
          channel: i.channel as Channel,
          category: i.category as Category,
          subject: (i.subject as string | undefined) ?? null,
          body: i.body,
        },
        req.actionId,
      );
      const output = { messageId: m.id, status: m.status, reason: m.reason ?? null };
      return { status: m.status === 'suppressed' ? 'failed' : 'succeeded', output };
    } catch (err) {
      return { status: 'failed', output: { error: (err as Error).message } };
    }
  }
}
