import { ClickHouseStore, literal, raw, sql, toDateTimeString } from '@app/clickhouse';
import type { ProfileUpdated } from '@app/contracts';
import { riskBand } from './risk/risk-scorer';

export interface SegmentTransition {
  segment: string;
  userId: string;
  action: 'enter' | 'leave';
  at: number;
  profileVersion: number;
}

/**
 * ClickHouse side of the publisher: the latest profile per user (`user_profiles`, versioned),
 * one row per publication (`profile_publications`) and segment membership history
 * (`segment_history`). Reads use FINAL: never rely on merges having happened.
 */
export class ProfileRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Resolves when every row is durable, so offsets and publication may follow. */
  async write(profiles: readonly ProfileUpdated[], transitions: readonly SegmentTransition[], now = Date.now()): Promise<void> {
    if (profiles.length === 0) return;
    const profileRows = profiles.map((p) => {
      const attrs = Object.entries(p.attributes);
      return {
        user_id: p.user_id,
        version: p.version,
        as_of: toDateTimeString(p.as_of),
        computed_at: toDateTimeString(p.computed_at),
        computed_at_ms: p.computed_at,
        ingested_at_ms: p.freshness.ingested ?? 0,
        model_version: p.model_version ?? '',
        segments: p.segments,
        risk_score: p.risk.score,
        risk_band: riskBand(p.risk.score),
        views_30d: p.features.views_30d,
        purchases_30d: p.features.purchases_30d,
        spend_30d: p.features.spend_30d,
        purchase_propensity: p.predictions.purchase_propensity_24h ?? -1,
        price_sensitivity: p.preferences.price_sensitivity ?? '',
        top_categories: p.interests.categories.slice(0, 3).map((c) => c.key),
        attribute_names: attrs.map(([n]) => n),
        attribute_values: attrs.map(([, a]) => a.value ?? ''),
        attribute_sources: attrs.map(([, a]) => a.source),
        profile_json: JSON.stringify(p),
      };
    });
    const publications = profiles.map((p) => ({
      user_id: p.user_id,
      version: p.version,
      as_of: toDateTimeString(p.as_of),
      computed_at: toDateTimeString(p.computed_at),
      computed_at_ms: p.computed_at,
      ingested_at_ms: p.freshness.ingested ?? 0,
      changed_fields: p.changed_fields,
    }));
    const history = transitions.map((t) => ({
      segment: t.segment,
      user_id: t.userId,
      action: t.action,
      at: toDateTimeString(t.at),
      recorded_at: toDateTimeString(now),
      profile_version: t.profileVersion,
    }));
    await Promise.all([
      this.store.insert('user_profiles', profileRows),
      this.store.insert('profile_publications', publications),
      this.store.insert('segment_history', history),
    ]);
  }

  /** The latest stored profile of each of these users (absent users are simply missing). */
  async latestFor(userIds: readonly string[]): Promise<ProfileUpdated[]> {
    if (userIds.length === 0) return [];
    const rows = await this.store.query<{ profile_json: string }>(
      sql`SELECT argMax(profile_json, version) AS profile_json FROM user_profiles WHERE user_id IN (${raw(userIds.map((u) => literal(u)).join(', '))}) GROUP BY user_id`,
    );
    return rows.map((r) => JSON.parse(r.profile_json) as ProfileUpdated);
  }

  /** The most recently computed profiles, newest first (cache warm-up). */
  async mostRecent(limit: number): Promise<ProfileUpdated[]> {
    if (limit <= 0) return [];
    const rows = await this.store.query<{ profile_json: string }>(
      sql`SELECT profile_json FROM user_profiles FINAL ORDER BY computed_at_ms DESC, user_id LIMIT ${limit}`,
    );
    return rows.map((r) => JSON.parse(r.profile_json) as ProfileUpdated);
  }

  /** Current members of a segment in user_id order, after `cursor` (exclusive). */
  async segmentMembers(segment: string, cursor: string, limit: number): Promise<string[]> {
    const rows = await this.store.query<{ user_id: string }>(
      sql`SELECT user_id FROM user_profiles FINAL WHERE has(segments, ${segment}) AND user_id > ${cursor} ORDER BY user_id LIMIT ${limit}`,
    );
    return rows.map((r) => r.user_id);
  }
}
