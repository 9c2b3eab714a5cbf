/**
 * An attempt's deadline, set and cleared once per request without touching a timer. A Node timer
 * per attempt (setTimeout, then clearTimeout when the answer comes) was a measurable part of a
 * request's cost; here one timer per caller connection stays armed, and when it fires before the
 * deadline now set (a later request's), it is armed again for what is left. In steady traffic that
 * is one timer operation per deadline's length, not two per request.
 */

/** What a deadline calls when it passes. */
export interface DeadlineHolder {
  deadlinePassed(): void;
}

/** One deadline at a time, held by one holder (the caller connection's exchange in flight). */
export class Deadline {
  /** `performance.now()` when it passes; Infinity when none is set. */
  private at = Infinity;
  private holder: DeadlineHolder | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (`performance.now()` clock); Infinity when none is armed. */
  private timerAt = Infinity;
  private readonly onTimer = (): void => this.fired();

  /** Sets the deadline at `at` (a `performance.now()` time) for `holder`, replacing any other. */
  set(at: number, holder: DeadlineHolder): void {
    this.at = at;
    this.holder = holder;
    // The armed timer fires in time, or early and is armed again: only a sooner deadline re-arms.
    if (at < this.timerAt) this.arm(at);
  }

  /** Clears the deadline, if `holder` holds it (a finished exchange never clears the next one's). */
  clear(holder: DeadlineHolder): void {
    if (this.holder !== holder) return;
    this.at = Infinity;
    this.holder = undefined;
  }

  /** Stops the timer for good (the caller connection closed). */
  dispose(): void {
    this.at = Infinity;
    this.holder = undefined;
    this.timerAt = Infinity;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fired(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.at === Infinity) return;
    if (performance.now() < this.at) {
      this.arm(this.at);
      return;
    }
    const holder = this.holder!;
    this.at = Infinity;
    this.holder = undefined;
    holder.deadlinePassed();
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    // Unreferenced: the sockets keep the process alive while a request is in flight, and an armed
    // timer of an idle connection must not.
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(at - performance.now()))).unref();
  }
}
