import { Controller, Get, Headers, HttpException, Inject, Param, Query } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeys, PublisherConfig } from '@app/config';
import type { ProfileUpdated } from '@app/contracts';
import { LOGGER } from '@app/observability';
import { ProfileCache } from './profile-cache';
import { ProfileRepository } from './profile.repository';
import { SegmentRuleSet } from './segments/segment-rule-set';
import { PUBLISHER_CONFIG } from './tokens';

/** User ids the API accepts: what the ingestor accepts, and nothing that could be a path or SQL. */
export const USER_ID = /^[\p{L}\p{N}._:@-]{1,256}$/u;
const CURSOR = USER_ID;

function badId(what: string): HttpException {
  return new HttpException({ error: `invalid_${what}`, message: `${what.replace('_', ' ')} must be 1-256 letters, digits or ._:@- (no slashes, quotes or spaces)` }, 400);
}

function parseLimit(limit: string | undefined, def: number, max: number): number {
  const n = limit === undefined ? def : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new HttpException({ error: 'invalid_limit', message: `limit must be an integer 1-${max}` }, 400);
  }
  return n;
}

class Authorizer {
  private readonly keys: ApiKeys;
  constructor(config: PublisherConfig) {
    this.keys = new ApiKeys(config.PORTRAIT_READ_KEYS);
  }
  check(key: string | undefined) {
    if (!this.keys.allows(key)) throw new HttpException({ error: 'unauthorized', message: 'missing or invalid x-api-key header' }, 401);
  }
}

/** Lookup API (CONTRACTS.md): the in-memory cache kept current from the stream, ClickHouse on a miss. */
@Controller('v1/profiles')
export class ProfilesController {
  private readonly auth: Authorizer;

  constructor(
    @Inject(PUBLISHER_CONFIG) config: PublisherConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cache: ProfileCache,
    private readonly repo: ProfileRepository,
  ) {
    this.auth = new Authorizer(config);
  }

  @Get(':userId')
  async one(@Param('userId') userId: string, @Headers('x-api-key') key: string | undefined): Promise<ProfileUpdated> {
    this.auth.check(key);
    if (!USER_ID.test(userId)) throw badId('user_id');
    const cached = this.cache.get(userId);
    if (cached) return cached;
    let stored: ProfileUpdated | undefined;
    try {
      [stored] = await this.repo.latestFor([userId]);
    } catch (e) {
      this.logger.error({ event: 'profile_lookup_failed', err: e }, 'ClickHouse lookup failed');
      throw new HttpException({ error: 'unavailable', message: 'profile store unavailable, retry later' }, 503);
    }
    if (!stored) throw new HttpException({ error: 'not_found', message: `no profile for user ${userId}` }, 404);
    this.cache.put(stored);
    return stored;
  }

  @Get()
  list(@Query('limit') limit: string | undefined, @Headers('x-api-key') key: string | undefined) {
    this.auth.check(key);
    const n = parseLimit(limit, 20, 1000);
    return { profiles: this.cache.recent(n), total: this.cache.size };
  }
}

/** Current members of a segment, paged by user id (`cursor` = the last id of the previous page). */
@Controller('v1/segments')
export class SegmentsController {
  private readonly auth: Authorizer;

  constructor(
    @Inject(PUBLISHER_CONFIG) config: PublisherConfig,
    private readonly rules: SegmentRuleSet,
    private readonly repo: ProfileRepository,
  ) {
    this.auth = new Authorizer(config);
  }

  @Get()
  list(@Headers('x-api-key') key: string | undefined) {
    this.auth.check(key);
    return { segments: this.rules.current.map((d) => ({ name: d.name, description: d.description })), last_error: this.rules.lastError };
  }

  @Get(':name/members')
  async members(
    @Param('name') name: string,
    @Query('cursor') cursor: string | undefined,
    @Query('limit') limit: string | undefined,
    @Headers('x-api-key') key: string | undefined,
  ) {
    this.auth.check(key);
    if (!/^[a-z0-9_]{1,64}$/.test(name)) throw badId('segment_name');
    if (!this.rules.names.includes(name)) throw new HttpException({ error: 'not_found', message: `no segment named ${name}` }, 404);
    if (cursor !== undefined && cursor !== '' && !CURSOR.test(cursor)) throw badId('cursor');
    const n = parseLimit(limit, 100, 10_000);
    const members = await this.repo.segmentMembers(name, cursor ?? '', n + 1);
    const page = members.slice(0, n);
    return { segment: name, members: page, next_cursor: members.length > n ? page[page.length - 1] : null };
  }
}
