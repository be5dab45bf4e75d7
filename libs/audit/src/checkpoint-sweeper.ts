import { Injectable } from '@nestjs/common';
import { LedgerlineConfig, Periodic } from '@app/platform';
import { CheckpointService } from './checkpoint.service';

/** Signs, on a timer, the chains that gained entries since their last checkpoint (worker only). */
@Injectable()
export class CheckpointSweeper {
  constructor(
    private readonly checkpoints: CheckpointService,
    readonly config: LedgerlineConfig,
  ) {}

  @Periodic(
    'audit-checkpoints',
    (self: CheckpointSweeper) => self.config.AUDIT_CHECKPOINT_INTERVAL_MS,
  )
  sweep(): Promise<number> {
    return this.checkpoints.sweep();
  }
}
