/**
 * A guard against stalled connections: fetch has no read timeout, so a
 * connection that stops moving bytes without closing would hold its segment
 * forever. The guard aborts the exchange once no byte has come for `ms`;
 * the segment is then retried like any other cut connection.
 */
export class StallGuard {
  #last = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(ms: number, control: AbortController) {
    this.#timer = setInterval(() => {
      if (performance.now() - this.#last >= ms) {
        this.stop();
        control.abort(new Error(`no data for ${ms} ms`));
      }
    }, Math.max(10, ms / 4));
  }

  /** Bytes (or an answer) arrived. */
  kick(): void {
    this.#last = performance.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
