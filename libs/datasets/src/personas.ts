import {
  AGE_BANDS,
  AGE_BAND_WEIGHTS,
  AgeBand,
  CATEGORIES,
  CITIES,
  CITY_WEIGHTS,
  CONSUMPTION_LEVELS,
  CONSUMPTION_WEIGHTS,
  ConsumptionLevel,
  Gender,
  GENDERS,
} from './catalog';
import { hash32, Rng } from './prng';

/** Click-farm behaviours of simulated bots. */
export const BOT_KINDS = ['view_farm', 'cart_farm', 'replay_bot', 'social_farm', 'review_farm'] as const;
export type BotKind = (typeof BOT_KINDS)[number];

/** The latent truth behind one simulated user. */
export interface Persona {
  /** Index of the user in the generated population (0-based). */
  index: number;
  user_id: string;
  age: AgeBand;
  gender: Gender;
  consumption_level: ConsumptionLevel;
  /** Consumption level as 0 (low) … 2 (high): the preferred brand tier. */
  tier: number;
  /** Favourite category indices (into CATEGORIES), most liked first. */
  favoriteCategories: number[];
  /** Favourite brand index (0–5) per favourite category, same order. */
  favoriteBrands: number[];
  /** Relative activity (median 1, heavy-tailed). */
  activity: number;
  /** Hour of day (0–23, UTC+8 local time) the user is most active. */
  peakHour: number;
  device: 'mobile' | 'desktop' | 'tablet';
  os: string;
  city: number;
  /** Last two octets of the home IP. */
  ipHost: number;
  /** Set for click-farm bots; their demographic fields are meaningless. */
  bot: BotKind | null;
}

export interface PersonaOptions {
  seed: number;
  users: number;
  /** Fraction of users that are bots (default 0.02). */
  botFraction?: number;
  /** Prefix of generated user ids (default `u`): user i is `<prefix><i>`. */
  userPrefix?: string;
}

export const DEFAULT_BOT_FRACTION = 0.01;

/** Category affinity of an age band and gender: the weights favourite categories are drawn by. */
export function categoryAffinity(age: number, gender: number): number[] {
  return CATEGORIES.map((c) => c.gender[gender] * c.age[age]);
}
const AFFINITY: number[][][] = AGE_BANDS.map((_, a) => GENDERS.map((_g, g) => categoryAffinity(a, g)));

/**
 * The persona of user `index`, derived only from (seed, index) so any user can be recreated
 * without generating the others.
 */
export function personaOf(seed: number, index: number, options: Omit<PersonaOptions, 'seed' | 'users'> = {}): Persona {
  const rng = new Rng(hash32(hash32(seed, 0x5eed), index));
  const botFraction = options.botFraction ?? DEFAULT_BOT_FRACTION;
  const isBot = rng.next() < botFraction;
  const age = rng.weighted(AGE_BAND_WEIGHTS);
  const gender = rng.chance(0.52) ? 0 : 1;
  // Younger shoppers skew to lower consumption levels, the 26–45 bands to higher.
  const levelWeights = CONSUMPTION_WEIGHTS.map((w, l) => w * (l === 2 ? [0.3, 0.6, 1.3, 1.5, 1.2, 0.9][age] : 1));
  const tier = rng.weighted(levelWeights);
  const affinity = AFFINITY[age][gender].slice();
  const favoriteCategories: number[] = [];
  const favoriteBrands: number[] = [];
  const nFav = rng.int(3, 5);
  for (let k = 0; k < nFav; k++) {
    const c = rng.weighted(affinity);
    affinity[c] = 0;
    favoriteCategories.push(c);
    // Brand tier follows consumption level most of the time; gender picks within the tier.
    const brandTier = rng.chance(0.75) ? tier : rng.int(0, 2);
    favoriteBrands.push(brandTier * 2 + (rng.chance(gender === 0 ? 0.7 : 0.3) ? 0 : 1));
  }
  const city = rng.weighted(CITY_WEIGHTS);
  const deviceRoll = rng.next();
  const olderDesktop = age >= 4 ? 0.3 : age === 0 ? 0.05 : 0.15;
  const device = deviceRoll < olderDesktop ? 'desktop' : deviceRoll < olderDesktop + 0.08 ? 'tablet' : 'mobile';
  const iosShare = [0.25, 0.4, 0.62][tier];
  const os =
    device === 'desktop'
      ? rng.chance(tier === 2 ? 0.45 : 0.15)
        ? 'macOS'
        : 'Windows'
      : rng.chance(iosShare)
        ? device === 'tablet'
          ? 'iPadOS'
          : 'iOS'
        : 'Android';
  // Young users are night owls, older users morning people (local time).
  const peakHour = (([22, 22, 21, 20, 10, 9][age] + Math.round(rng.normal() * 2)) % 24 + 24) % 24;
  const bot = isBot ? rng.pick(BOT_KINDS) : null;
  return {
    index,
    user_id: `${options.userPrefix ?? 'u'}${index}`,
    age: AGE_BANDS[age],
    gender: GENDERS[gender],
    consumption_level: CONSUMPTION_LEVELS[tier],
    tier,
    favoriteCategories,
    favoriteBrands,
    activity: Math.min(8, rng.logNormal(1, 0.6)),
    peakHour,
    device,
    os,
    city,
    ipHost: rng.int(0, 65535),
    bot,
  };
}

/** Personas of users 0 … users−1 (lazily). */
export function* generatePersonas(options: PersonaOptions): Generator<Persona> {
  for (let i = 0; i < options.users; i++) yield personaOf(options.seed, i, options);
}

/** Home IP of a human persona: a residential address in its city's range. */
export function personaIp(p: Persona): string {
  const net = CITIES[p.city].net;
  return `${net[0]}.${net[1]}.${(p.ipHost >>> 8) & 255}.${p.ipHost & 255}`;
}
