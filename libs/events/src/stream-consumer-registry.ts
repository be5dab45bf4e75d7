import { Injectable } from '@nestjs/common';
import { StreamQueue } from './stream-consumer';

/** Which consumers the relay must wake for new events; capability modules add themselves. */
@Injectable()
export class StreamConsumerRegistry {
  private readonly queues = new Set<StreamQueue>();

  add(queue: StreamQueue): void {
    this.queues.add(queue);
  }

  all(): StreamQueue[] {
    return [...this.queues];
  }
}
