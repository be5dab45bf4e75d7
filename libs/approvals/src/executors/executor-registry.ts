import { Injectable } from '@nestjs/common';
import { AiActionExecutor } from './ai-action-executor';

/**
 * The in-process executors by action type. A capability plugs one in when its module starts
 * (`registry.register(executor)`); a type without one is executed by the submitting service,
 * which reports back with `POST /v1/ai-actions/{id}/outcome`.
 */
@Injectable()
export class ExecutorRegistry {
  private readonly executors = new Map<string, AiActionExecutor>();

  register(executor: AiActionExecutor): void {
    if (this.executors.has(executor.type)) {
      throw new Error(`two executors registered for ${executor.type}`);
    }
    this.executors.set(executor.type, executor);
  }

  find(type: string): AiActionExecutor | undefined {
    return this.executors.get(type);
  }

  types(): string[] {
    return [...this.executors.keys()];
  }
}
