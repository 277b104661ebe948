import type { ClickHouseStore } from '@app/clickhouse';
import { sql } from '@app/clickhouse';
import { inList, loadStoredUsers, UserState } from '@app/features';
import type { PartitionRef } from '@app/kafka';

/**
 * The hot per-user states of the partitions this process owns, bounded by `maxUsers` with
 * least-recently-used eviction, backed by the `events` table as durable state:
 *
 * - A user not in memory is restored from ClickHouse (their late = 0 events of the last 30 days
 *   and their first event time) the first time a batch needs them — after a restart, a rebalance
 *   or an eviction. Offsets are committed only after a batch's rows are in ClickHouse, so the
 *   stored events plus the redelivered uncommitted ones are exactly what an uninterrupted run saw.
 * - To avoid a ClickHouse lookup for every brand-new user, each owned partition keeps the set of
 *   user keys known to have stored events (read at assignment, plus every evicted user). A user in
 *   neither the hot map nor that set is new. Beyond `maxUsers` known keys a partition falls back to
 *   looking every cold user up.
 * - On a rebalance, states of partitions not held continuously are dropped: another process may
 *   have advanced them meanwhile.
 */
export class HotStates {
  private readonly users = new Map<string, UserState>();
  private known = new Map<number, Set<string> | null>();
  private owned = new Set<number>();
  private ready: Promise<void> = Promise.resolve();
  evictions = 0;
  restores = 0;

  constructor(
    private readonly store: ClickHouseStore,
    private readonly maxUsers: number,
  ) {}

  get size(): number {
    return this.users.size;
  }

  /** Called on every (re)join with the partitions now owned. */
  onAssignment(assigned: readonly PartitionRef[]): void {
    const now = new Set(assigned.map((a) => a.partition));
    const fresh = [...now].filter((p) => !this.owned.has(p));
    for (const [key, s] of this.users) if (!now.has(s.partition) || fresh.includes(s.partition)) this.users.delete(key);
    for (const p of [...this.known.keys()]) if (!now.has(p) || fresh.includes(p)) this.known.delete(p);
    this.owned = now;
    if (fresh.length === 0) return;
    for (const p of fresh) this.known.set(p, null); // until loaded: look every cold user up
    const previous = this.ready;
    this.ready = previous.then(() => this.loadKnown(fresh)).catch(() => undefined);
  }

  private async loadKnown(partitions: number[]): Promise<void> {
    const rows = await this.store.query<{ user_key: string; p: number }>(
      sql`SELECT DISTINCT user_key, kafka_partition AS p FROM events WHERE kafka_partition IN ${inList(partitions)} LIMIT ${this.maxUsers + 1}`,
    );
    if (rows.length > this.maxUsers) return; // too many: keep looking cold users up
    const sets = new Map(partitions.map((p) => [p, new Set<string>()]));
    for (const r of rows) sets.get(Number(r.p))?.add(r.user_key);
    for (const [p, set] of sets) if (this.owned.has(p) && this.known.get(p) === null) this.known.set(p, set);
  }

  /**
   * The states of `keys` (all of one partition), restored from ClickHouse where needed, pinned
   * until `release`. Throws when ClickHouse is unreachable (the batch is retried).
   */
  async acquire(partition: number, keys: Iterable<string>): Promise<Map<string, UserState>> {
    await this.ready;
    const out = new Map<string, UserState>();
    const lookup: string[] = [];
    const known = this.known.get(partition);
    for (const key of keys) {
      const s = this.users.get(key);
      if (s) {
        // Refresh recency (Map iteration order is insertion order: the LRU order).
        this.users.delete(key);
        this.users.set(key, s);
        out.set(key, s);
      } else if (known === null || known === undefined || known.has(key)) {
        lookup.push(key);
      } else {
        out.set(key, this.insert(new UserState(key, partition)));
      }
    }
    if (lookup.length > 0) {
      const stored = await loadStoredUsers(this.store, lookup);
      for (const key of lookup) {
        const s = new UserState(key, partition);
        const u = stored.get(key);
        if (u) {
          s.load(u.events, u.firstEventAt);
          this.restores++;
        }
        out.set(key, this.insert(s));
      }
    }
    for (const s of out.values()) s.pins++;
    return out;
  }

  release(states: Iterable<UserState>): void {
    for (const s of states) s.pins--;
    this.evict();
  }

  private insert(s: UserState): UserState {
    this.users.set(s.userKey, s);
    return s;
  }

  /** Evicts least recently used, unpinned states beyond the bound; their data is in ClickHouse. */
  private evict(): void {
    if (this.users.size <= this.maxUsers) return;
    for (const [key, s] of this.users) {
      if (this.users.size <= this.maxUsers) break;
      if (s.pins > 0) continue;
      this.users.delete(key);
      this.evictions++;
      const known = this.known.get(s.partition);
      if (known) {
        known.add(key);
        if (known.size > this.maxUsers) this.known.set(s.partition, null);
      }
    }
  }

  /** Approximate number of event records held (for the memory gauge). */
  records(): number {
    let n = 0;
    for (const s of this.users.values()) n += s.size;
    return n;
  }
}
