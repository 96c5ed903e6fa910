// Work that must not be awaited by the request that caused it. The forgot-password request answers
// before it looks the account up, so its timing cannot say whether the email has an account
// (SECURITY.md items 23, 35). The work is still tracked: failures are logged, and shutdown (and a
// test) can wait for it to finish, so nothing is silently lost.
import type { Logger } from 'pino';

export class BackgroundTasks {
  readonly #running = new Set<Promise<void>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Starts the work once the current request has answered; `label` names it in the log if it fails
   * (never with its data). Not at once: on the embedded database a query runs on this thread, so
   * work started inside the request held its answer back until the account lookup was done, and
   * the delay told known emails from unknown ones (test/security/enumeration-timing.test.ts).
   */
  run(label: string, work: () => Promise<void>): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => this.#log.error({ err: error, task: label }, 'background task failed'))
      .finally(() => this.#running.delete(task));
    this.#running.add(task);
  }

  /** Resolves when every task started so far has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
