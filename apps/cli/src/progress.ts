import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on a terminal, plain lines (at most one a second) when stderr is piped. */
export class Progress {
  private bar?: SingleBar;
  private lastLine = 0;

  constructor(private readonly label: string) {
    if (process.stderr.isTTY) {
      this.bar = new SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
          stream: process.stderr,
        },
        Presets.shades_classic,
      );
    }
  }

  update(done: number, total: number): void {
    if (this.bar) {
      if (!this.bar.isActive) this.bar.start(total, done);
      this.bar.setTotal(total);
      this.bar.update(done);
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= 1000 || done >= total) {
      this.lastLine = now;
      process.stderr.write(`${this.label}: ${done}/${total}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
