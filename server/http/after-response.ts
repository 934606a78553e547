// Work a request causes but its answer must not wait for, nor reveal by its duration. The
// forgot-password page answers at once, the same for every address, and only then looks the
// address up and queues the reset email (issue 9, point 16): how long the answer takes says
// nothing about whether an account uses the address.
//
// The composition root (deps.ts) makes one runner; tests give their own, which holds the work
// until they release it, to prove the page was sent before any of it ran
// (test/api/front-door.test.ts, "forgot password answers before it looks anything up").
import type { Logger } from 'pino';

export interface AfterResponse {
  /** Runs `work` once the current answer is on its way. Never throws; failures are logged. */
  run(label: string, work: () => Promise<void>): void;
  /** Resolves once no work is running (shutdown; tests before they look at the result). */
  idle(): Promise<void>;
}

/**
 * The server's runner: work starts on a later turn of the event loop, after the handler returned
 * and its answer was written. A failure is logged (`background work failed`, with the label and
 * the error message) and never reaches the process as an unhandled rejection. `idle()` waits for
 * what is running, so shutdown does not close the database under it.
 */
export class BackgroundWork implements AfterResponse {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  run(label: string, work: () => Promise<void>): void {
    const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((err: unknown) => this.logger.error({ work: label, err: { message: (err as Error | undefined)?.message } }, 'background work failed'))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
