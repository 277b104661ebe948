import type { OutgoingMessage } from '@app/kafka';
import { sendChunked } from './chunked-send';

/** What the coalescer needs from a producer (MessageProducer.sendMany). */
export interface BatchSender {
  sendMany(batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[]): Promise<void>;
}

/** The in-flight budget is full: answer 429 and let the client retry. */
export class ProducerBusyError extends Error {}
/** Kafka did not acknowledge (error or timeout): answer 503. */
export class ProducerFailedError extends Error {}
class ProducerTimeoutError extends ProducerFailedError {}

export interface CoalescerOptions {
  /** Most events accepted but not yet acknowledged; beyond it `submit` throws ProducerBusyError. */
  maxInFlightEvents: number;
  /** How long a submission may wait for others to join its Kafka request. */
  lingerMs: number;
  /** Most messages in one Kafka request. */
  maxBatchMessages: number;
  /** A Kafka request not acknowledged within this time fails its submissions. */
  timeoutMs: number;
}

interface Pending {
  byTopic: Map<string, OutgoingMessage[]>;
  count: number;
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

/**
 * Coalesces concurrent HTTP requests' messages into one `sendMany` every `lingerMs` (or sooner
 * when a batch is full): at 200 requests/s of 100 events, one Kafka round trip per few requests
 * instead of one each. Bounded: messages waiting plus in flight never exceed
 * `maxInFlightEvents` — a submission that would exceed it is refused at once (429), never queued.
 * Each submission resolves only when Kafka acknowledged all of its messages.
 */
export class ProduceCoalescer {
  private pending: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;

  constructor(
    private readonly sender: () => BatchSender | null,
    private readonly opts: CoalescerOptions,
  ) {}

  /** Events accepted and not yet acknowledged. */
  get outstanding(): number {
    return this.inFlight;
  }

  submit(batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[]): Promise<void> {
    const n = batches.reduce((s, b) => s + b.messages.length, 0);
    if (n === 0) return Promise.resolve();
    if (this.inFlight + n > this.opts.maxInFlightEvents) {
      return Promise.reject(new ProducerBusyError(`producer budget full (${this.inFlight} events in flight)`));
    }
    if (this.pending && this.pending.count + n > this.opts.maxBatchMessages) this.flush();
    this.inFlight += n;
    const p: Pending = (this.pending ??= { byTopic: new Map(), count: 0, waiters: [] } as Pending);
    for (const b of batches) {
      if (b.messages.length === 0) continue;
      const list = p.byTopic.get(b.topic);
      if (list) for (const m of b.messages) list.push(m);
      else p.byTopic.set(b.topic, [...b.messages]);
    }
    p.count += n;
    const done = new Promise<void>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.count >= this.opts.maxBatchMessages || this.opts.lingerMs === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    return done;
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    void this.send(p);
  }

  private async send(p: Pending): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let released = false;
    const release = () => {
      if (!released) this.inFlight -= p.count;
      released = true;
    };
    try {
      const sender = this.sender();
      if (!sender) throw new ProducerFailedError('Kafka producer not connected');
      const batches = [...p.byTopic].map(([topic, messages]) => ({ topic, messages }));
      const sent = sendChunked(sender, batches);
      // NOTE: on timeout the send may still complete later; its events stay counted in the
      // budget until it settles, so a slow broker cannot make the buffer unbounded.
      sent.then(release, release);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ProducerTimeoutError(`Kafka did not acknowledge within ${this.opts.timeoutMs} ms`)),
          this.opts.timeoutMs,
        );
      });
      await Promise.race([sent, timeout]);
      for (const w of p.waiters) w.resolve();
    } catch (e) {
      if (!(e instanceof ProducerTimeoutError)) release(); // a timed-out send still holds its budget
      const err = e instanceof ProducerFailedError ? e : new ProducerFailedError(e instanceof Error ? e.message : String(e));
      for (const w of p.waiters) w.reject(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
