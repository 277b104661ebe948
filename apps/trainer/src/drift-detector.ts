/**
 * Page–Hinkley test for an upward shift of the mean of a stream (here: per-sample prequential
 * loss). m_t = Σ (x_i − mean_i − δ); alarm when m_t − min m > λ. Resets after an alarm so the next
 * one needs fresh evidence. δ tolerates small fluctuations, λ sets the evidence needed.
 */
export class PageHinkley {
  private n = 0;
  private mean = 0;
  private cum = 0;
  private min = 0;
  detections = 0;

  constructor(
    private readonly delta = 0.01,
    private readonly lambda = 50,
    private readonly minSamples = 200,
  ) {}

  /** Adds one observation; true when a drift is detected. */
  add(x: number): boolean {
    if (!Number.isFinite(x)) return false;
    this.n++;
    this.mean += (x - this.mean) / this.n;
    this.cum += x - this.mean - this.delta;
    this.min = Math.min(this.min, this.cum);
    if (this.n >= this.minSamples && this.cum - this.min > this.lambda) {
      this.detections++;
      this.reset();
      return true;
    }
    return false;
  }

  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.cum = 0;
    this.min = 0;
  }
}
