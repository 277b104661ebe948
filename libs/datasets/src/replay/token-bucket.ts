/** Rate limiter: `take(n)` resolves when n tokens are available (refilled at `ratePerSec`). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) * this.ratePerSec) / 1000);
    this.last = t;
  }

  /** Waits for `n` tokens (n may exceed the capacity; it is then paid off over time). */
  async take(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) {
      await this.sleep((-this.tokens / this.ratePerSec) * 1000);
      this.refill();
    }
  }
}
