import { Injectable } from '@nestjs/common';
import type { ProfileUpdated } from '@app/contracts';

/** Latest profile per user, in memory, in recency order (a Map keeps insertion order). */
@Injectable()
export class ProfileCache {
  private readonly profiles = new Map<string, ProfileUpdated>();

  get(userId: string): ProfileUpdated | undefined {
    return this.profiles.get(userId);
  }

  put(p: ProfileUpdated): void {
    this.profiles.delete(p.user_id);
    this.profiles.set(p.user_id, p);
  }

  get size(): number {
    return this.profiles.size;
  }

  /** Most recently updated first. */
  recent(limit: number): ProfileUpdated[] {
    const all = [...this.profiles.values()];
    return all.slice(-limit).reverse();
  }
}
