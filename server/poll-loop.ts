// A background loop for the outbox workers (mail/worker.ts, events/push-worker.ts): runs `run`
// every pollMs, at once again when a run reports a full batch, never two runs at a time; a failed
// run (database down) is handed to `failed` and the next one tried. The timer never keeps the
// process alive; stop() waits for the run in flight. A leaf: it imports nothing of ours.
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    /** One run; resolves true when it filled its batch (more may be waiting). */
    private readonly run: () => Promise<boolean>,
    private readonly failed: (err: unknown) => void,
  ) {}

  start(pollMs: number): void {
    if (this.timer || this.inFlight) return;
    this.stopped = false;
    const schedule = (delay: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(tick, delay);
      this.timer.unref();
    };
    const tick = () => {
      this.timer = undefined;
      let full = false;
      this.inFlight = this.run()
        .then((f) => {
          full = f;
        }, this.failed)
        .finally(() => {
          this.inFlight = undefined;
          schedule(full ? 0 : pollMs);
        });
    };
    schedule(pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
