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

export interface CoalescerOptions {
  /** Most events accepted but not yet acknowledged; beyond it `submit` throws ProducerBusyError. */
  maxInFlightEvents: number;
  /** How long a submission may wait for others to join its Kafka request. */
  lingerMs: number;
  /** A flush is due once this many messages wait (it may still wait for a free send slot). */
  maxBatchMessages: number;
  /** A submission not acknowledged within this time (from submission) fails. */
  timeoutMs: number;
  /** Sends in flight at once (default 2); more pending messages wait and go out together. */
  maxConcurrentSends?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Pending {
  byTopic: Map<string, OutgoingMessage[]>;
  count: number;
  waiters: Waiter[];
}

/**
 * Coalesces concurrent HTTP requests' messages into few `sendMany` calls ("group commit"): at
 * most `maxConcurrentSends` sends are in flight; while they are, new messages accumulate and go
 * out together when a slot frees (or after `lingerMs` when one is free). So a slow broker means
 * bigger batches, not more round trips — Kafka handles one request per connection at a time, so
 * many small concurrent requests would only queue behind each other.
 * Bounded: messages waiting plus in flight never exceed `maxInFlightEvents` — a submission that
 * would exceed it is refused at once (429), never queued. Each submission resolves only when
 * Kafka acknowledged all of its messages.
 */
export class ProduceCoalescer {
  private pending: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private sending = 0;

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
    this.inFlight += n;
    const p: Pending = (this.pending ??= { byTopic: new Map(), count: 0, waiters: [] } as Pending);
    for (const b of batches) {
      if (b.messages.length === 0) continue;
      const list = p.byTopic.get(b.topic);
      if (list) for (const m of b.messages) list.push(m);
      else p.byTopic.set(b.topic, [...b.messages]);
    }
    p.count += n;
    const done = new Promise<void>((resolve, reject) => {
      // NOTE: a timed-out submission's messages may still be sent later; they stay counted in the
      // budget until their send settles, so a slow broker cannot make the buffer unbounded.
      const timer = setTimeout(
        () => reject(new ProducerFailedError(`Kafka did not acknowledge within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs,
      );
      p.waiters.push({ resolve, reject, timer });
    });
    if (p.count >= this.opts.maxBatchMessages || this.opts.lingerMs === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs);
    return done;
  }

  /** Sends what is pending now, if a send slot is free (else when one frees up). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    if (!p || this.sending >= (this.opts.maxConcurrentSends ?? 2)) return;
    this.pending = null;
    const settle = (err: Error | null) => {
      this.inFlight -= p.count;
      for (const w of p.waiters) {
        clearTimeout(w.timer);
        if (err) w.reject(err);
        else w.resolve();
      }
    };
    const sender = this.sender();
    if (!sender) {
      settle(new ProducerFailedError('Kafka producer not connected'));
      return;
    }
    this.sending++;
    const batches = [...p.byTopic].map(([topic, messages]) => ({ topic, messages }));
    sendChunked(sender, batches)
      .then(
        () => settle(null),
        (e: unknown) => settle(new ProducerFailedError(e instanceof Error ? e.message : String(e))),
      )
      .finally(() => {
        this.sending--;
        if (this.pending) this.flush();
      });
  }
}
