import { Controller, Get, Headers, HttpException, Inject, Param, Query } from '@nestjs/common';
import { ApiKeys, PublisherConfig } from '@app/config';
import { ProfileCache } from './profile-cache';
import { PUBLISHER_CONFIG } from './tokens';

const USER_ID = /^[\p{L}\p{N}._:@-]{1,256}$/u;

/** Lookup API (CONTRACTS.md): profiles from the in-memory cache kept current from the stream. */
@Controller('v1/profiles')
export class ProfilesController {
  private readonly keys: ApiKeys;

  constructor(
    @Inject(PUBLISHER_CONFIG) config: PublisherConfig,
    private readonly cache: ProfileCache,
  ) {
    this.keys = new ApiKeys(config.PORTRAIT_READ_KEYS);
  }

  @Get(':userId')
  one(@Param('userId') userId: string, @Headers('x-api-key') key: string | undefined) {
    this.authorize(key);
    if (!USER_ID.test(userId)) {
      throw new HttpException({ error: 'invalid_user_id', message: 'user id must be 1-256 letters, digits or ._:@-' }, 400);
    }
    const p = this.cache.get(userId);
    if (!p) throw new HttpException({ error: 'not_found', message: `no profile for user ${userId}` }, 404);
    return p;
  }

  @Get()
  list(@Query('limit') limit: string | undefined, @Headers('x-api-key') key: string | undefined) {
    this.authorize(key);
    const n = limit === undefined ? 20 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw new HttpException({ error: 'invalid_limit', message: 'limit must be an integer 1-1000' }, 400);
    }
    return { profiles: this.cache.recent(n), total: this.cache.size };
  }

  private authorize(key: string | undefined) {
    if (!this.keys.allows(key)) throw new HttpException({ error: 'unauthorized', message: 'missing or invalid x-api-key header' }, 401);
  }
}
