import type { ProfileUpdated } from '@app/contracts';

/**
 * Latest published profile per user, in memory, bounded: a Map keeps insertion order, so
 * re-inserting on every update keeps it in update order and the oldest-updated user is evicted
 * first. Misses are answered from ClickHouse by the callers.
 */
export class ProfileCache {
  private readonly profiles = new Map<string, ProfileUpdated>();
  /** Profiles dropped for capacity: while 0, a cache that was warmed completely knows every user. */
  evictions = 0;

  constructor(readonly capacity = 200_000) {}

  get(userId: string): ProfileUpdated | undefined {
    return this.profiles.get(userId);
  }

  /** Keeps the higher version when an older one arrives late (warm-up racing the stream). */
  put(p: ProfileUpdated): void {
    const cur = this.profiles.get(p.user_id);
    if (cur && cur.version > p.version) return;
    this.profiles.delete(p.user_id);
    this.profiles.set(p.user_id, p);
    if (this.profiles.size > this.capacity) {
      const oldest = this.profiles.keys().next();
      if (!oldest.done) {
        this.profiles.delete(oldest.value);
        this.evictions++;
      }
    }
  }

  /** Forgets everything (after a rebalance another replica may have published newer versions). */
  clear(): void {
    this.profiles.clear();
    this.evictions++;
  }

  get size(): number {
    return this.profiles.size;
  }

  /** Most recently updated first. */
  recent(limit: number): ProfileUpdated[] {
    const out: ProfileUpdated[] = [];
    const all = [...this.profiles.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) out.push(all[i]);
    return out;
  }
}
