import type { UserAttributes } from '@app/contracts';
import type { KnownAttributes } from './profile-assembler';

/**
 * Attribute values the shop told us (user.attributes.v1, compacted: the latest message per user
 * wins). Held in memory for every user with known values; only those users cost memory.
 */
export class KnownAttributesStore {
  private readonly byUser = new Map<string, KnownAttributes>();

  get(userId: string): KnownAttributes | undefined {
    return this.byUser.get(userId);
  }

  /** Applies a message; returns false when it is older than what is held. */
  apply(a: UserAttributes): boolean {
    const cur = this.byUser.get(a.user_id);
    if (cur && cur.observedAt > a.observed_at) return false;
    const values: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(a.attributes)) values[k] = v;
    this.byUser.set(a.user_id, { values, observedAt: a.observed_at });
    return true;
  }

  get size(): number {
    return this.byUser.size;
  }
}
