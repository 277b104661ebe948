/**
 * Reservoir sampling (Algorithm R): a uniform sample of everything offered so far, bounded. Replayed
 * beside fresh samples in every mini-batch so the model does not forget older behaviour.
 */
export class Reservoir<T> {
  private readonly items: T[] = [];
  private seen = 0;

  constructor(
    readonly capacity: number,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.seen++;
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.capacity) this.items[j] = item;
    }
  }

  /** k items drawn uniformly with replacement (fine for replay; k ≪ capacity). */
  draw(k: number): T[] {
    const out: T[] = [];
    if (this.items.length === 0) return out;
    for (let i = 0; i < k; i++) out.push(this.items[Math.floor(this.random() * this.items.length)]);
    return out;
  }
}
