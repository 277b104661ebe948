// Public entry of the datasets library: import from '@app/datasets' only.
export * from './canonical-event';
export { Rng, hash32 } from './prng';
export { AGE_BANDS, CATEGORIES, CONSUMPTION_LEVELS, GENDERS } from './catalog';
export type { AgeBand, ConsumptionLevel, Gender } from './catalog';
export * from './personas';
export * from './generator';
export * from './importers';
export * from './labels';
export * from './replay/replay';
export { toClickEventInput } from './replay/click-event-conversion';
export type { ConversionResult } from './replay/click-event-conversion';
export { TokenBucket } from './replay/token-bucket';
