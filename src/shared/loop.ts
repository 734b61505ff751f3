/**
 * The one background-loop mechanism every processor uses (delivery, deadlines, ping schedule,
 * preservation reminders): run a pass, sleep, repeat; `wake()` cuts the sleep short (and a wake
 * during a pass makes the next pass start at once); `stop()` waits for the pass in progress.
 * Errors of a pass are reported and the loop goes on.
 */
export class BackgroundLoop {
  private stopped = true;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly o: {
    /** One pass of work. */
    pass: () => Promise<unknown>;
    /** How long to sleep after a pass (ms); may depend on what is due next. */
    sleepMs: () => number | Promise<number>;
    onError: (e: unknown) => void;
  }) {}

  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  wake(): void {
    this.dirty = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.dirty = false;
      let sleep = 0;
      try {
        await this.o.pass();
        sleep = await this.o.sleepMs();
      } catch (e) {
        this.o.onError(e);
        sleep = 1_000;
      }
      if (this.stopped || this.dirty) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, sleep);
      });
      this.wakeUp = undefined;
    }
  }
}
