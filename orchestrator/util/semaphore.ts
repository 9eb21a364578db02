/**
 * A counting semaphore: at most `size` holders at once, waiters served in arrival order. The farm
 * bounds its episodes with it, eval its rollouts.
 *
 * @example
 * const slots = new Semaphore(8);
 * await slots.acquire();
 * try { await runEpisode(...); } finally { slots.release(); }
 */
export class Semaphore {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }

  get inUse(): number {
    return this.used;
  }
}
