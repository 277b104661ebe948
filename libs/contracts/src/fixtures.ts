import type {
  ClickEvent,
  DeadLetter,
  Features,
  MessageName,
  MessageTypes,
  ModelMetrics,
  ModelUpdate,
  ProfileUpdated,
  UserAttributes,
  UserFeatures,
} from './generated/types';

/**
 * Realistic, fully populated example messages (every optional field set), for round-trip tests
 * here and as a starting point in other services' tests. Each call returns fresh objects.
 */
const T0 = Date.UTC(2025, 2, 14, 9, 30, 0); // 2025-03-14T09:30:00Z

export function exampleClickEvent(overrides: Partial<ClickEvent> = {}): ClickEvent {
  return {
    event_id: 'evt-0f5a9c2e-7b1d-4c55-9a10-3e2d6c1b8f00',
    user_id: 'u-10023',
    anonymous_id: 'anon-8c1e',
    session_id: 's-77aa',
    event_type: 'purchase',
    ts: T0,
    item_id: 'sku-55012',
    category: 'electronics>audio>headphones',
    brand: 'Sonora',
    price: 129.99,
    currency: 'EUR',
    quantity: 2,
    rating: null,
    query: null,
    target_user_id: null,
    device: 'mobile',
    os: 'Android 14',
    city: 'Lyon',
    region: 'Auvergne-Rhône-Alpes',
    country: 'FR',
    ip: '203.0.113.0',
    user_agent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36',
    referrer: 'https://search.example/q=headphones',
    properties: { campaign: 'spring-sale', page: 'checkout' },
    ingested_at: T0 + 180,
    source: 'http',
    backfill: false,
    ...overrides,
  };
}

export function exampleFeatures(): Features {
  return {
    views_1h: 3,
    views_24h: 14,
    views_7d: 61,
    views_30d: 203,
    clicks_24h: 9,
    clicks_7d: 40,
    clicks_30d: 150,
    cart_adds_24h: 2,
    cart_adds_7d: 5,
    cart_adds_30d: 11,
    cart_removes_30d: 3,
    favorites_30d: 4,
    purchases_24h: 1,
    purchases_7d: 2,
    purchases_30d: 4,
    spend_30d: 412.47,
    distinct_items_30d: 88,
    distinct_categories_30d: 12,
    active_days_30d: 17,
    last_event_at: T0,
    first_event_at: T0 - 86 * 86_400_000,
    sessions_30d: 29,
    avg_events_per_session_30d: 12.6,
    view_to_cart_rate_30d: 11 / 203,
    cart_to_purchase_rate_30d: 4 / 11,
    days_since_last_purchase: 0.25,
    searches_30d: 21,
    shares_30d: 1,
    follows_30d: 2,
    likes_30d: 6,
    comments_30d: 1,
    reviews_30d: 2,
    avg_rating_30d: 4.5,
    hour_histogram_30d: [0, 0, 0, 0, 0, 0, 2, 9, 30, 41, 22, 18, 25, 14, 10, 9, 12, 19, 33, 40, 28, 20, 9, 3],
    max_events_per_minute_24h: 6,
    events_24h: 31,
    distinct_sessions_24h: 3,
  };
}

export function exampleUserFeatures(): UserFeatures {
  return {
    user_id: 'u-10023',
    as_of: T0,
    ingested_at: T0 + 180,
    emitted_at: T0 + 420,
    event_count: 1_874,
    features: exampleFeatures(),
    category_scores: [
      { key: 'electronics>audio>headphones', score: 7.25 },
      { key: 'electronics>phones', score: 3.1 },
    ],
    brand_scores: [{ key: 'Sonora', score: 5.5 }],
    category_prices: [
      {
        category: 'electronics>audio>headphones',
        avg_view_price: 149.5,
        avg_purchase_price: 129.99,
        views_with_price: 40,
        purchases_with_price: 2,
      },
      {
        category: 'books',
        avg_view_price: 18.2,
        avg_purchase_price: null,
        views_with_price: 7,
        purchases_with_price: 0,
      },
    ],
    activity: {
      identical_session_ratio: 0.03,
      views_without_dwell_ratio: 0.1,
      reviews_24h: 0,
      cart_adds_1h: 1,
      purchases_1h: 1,
      follows_24h: 0,
      likes_24h: 2,
    },
  };
}

export function exampleDeadLetter(): DeadLetter {
  return {
    payload: Buffer.from([0xc3, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x02]),
    source_topic: 'clickstream.events.v1',
    source_partition: 3,
    source_offset: '9007199254740993',
    key: Buffer.from('u-10023'),
    error: 'ClickEvent: unknown writer schema fingerprint 33221100efbeadde',
    reason_code: 'unknown_fingerprint',
    field: null,
    stage: 'decode',
    service: 'feature-aggregator',
    failed_at: T0 + 1_000,
    headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  };
}

export function exampleUserAttributes(): UserAttributes {
  return {
    user_id: 'u-10023',
    attributes: { age: '26-35', sex: null, user_lv_cd: '4' },
    source: 'labels:jdata-users.csv',
    observed_at: T0 - 3_600_000,
    label_set: 'jdata2017',
  };
}

export function exampleModelUpdate(): ModelUpdate {
  const weights = Buffer.alloc(4 * 64);
  for (let i = 0; i < 64; i++) weights.writeFloatLE(Math.sin(i) / 10, 4 * i);
  return {
    model_version: 'm-20250314-093000-0007',
    created_at: T0,
    parent_version: 'm-20250314-091500-0006',
    backend: 'wasm',
    trained_samples: 1_250_000,
    topology_json: JSON.stringify({ class_name: 'Model', config: { name: 'portrait', layers: [] } }),
    weight_specs_json: JSON.stringify([{ name: 'trunk/kernel', shape: [8, 8], dtype: 'float32' }]),
    weights,
    normalization_json: JSON.stringify({ features: ['views_24h'], mean: [12.1], variance: [40.2] }),
    heads: [
      { name: 'age', kind: 'softmax', classes: ['<=15', '16-25', '26-35', '36-45', '46-55', '>=56'], decision_bias: [] },
      { name: 'purchase_24h', kind: 'sigmoid', classes: ['purchase'], decision_bias: [] },
      { name: 'next_categories', kind: 'multilabel', classes: ['electronics', 'books', 'home'], decision_bias: [] },
    ],
    metrics_json: JSON.stringify({ age: { accuracy: 0.41, macro_f1: 0.33 } }),
  };
}

export function exampleModelMetrics(): ModelMetrics {
  return {
    model_version: 'm-20250314-093000-0007',
    emitted_at: T0 + 5_000,
    samples_seen: 1_250_000,
    window_size: 10_000,
    drift: false,
    heads: [
      {
        head: 'age',
        kind: 'softmax',
        n: 6_120,
        accuracy: 0.41,
        macro_f1: 0.33,
        log_loss: 1.42,
        auc: null,
        majority_accuracy: 0.37,
        majority_macro_f1: 0.09,
        per_class_recall: { '16-25': 0.3, '26-35': 0.62, '36-45': 0.21 },
      },
      {
        head: 'purchase_24h',
        kind: 'sigmoid',
        n: 10_000,
        accuracy: 0.91,
        macro_f1: 0.68,
        log_loss: 0.24,
        auc: 0.83,
        majority_accuracy: 0.9,
        majority_macro_f1: 0.47,
        per_class_recall: { purchase: 0.44, no_purchase: 0.96 },
      },
    ],
  };
}

export function exampleProfileUpdated(): ProfileUpdated {
  return {
    user_id: 'u-10023',
    version: 42,
    as_of: T0,
    computed_at: T0 + 650,
    model_version: 'm-20250314-093000-0007',
    attributes: {
      age: { value: '26-35', source: 'known', confidence: null, distribution: {} },
      sex: {
        value: 'female',
        source: 'predicted',
        confidence: 0.71,
        distribution: { female: 0.71, male: 0.29 },
      },
      user_lv_cd: { value: null, source: 'predicted', confidence: null, distribution: {} },
    },
    features: exampleFeatures(),
    predictions: {
      purchase_propensity_24h: 0.37,
      next_categories: [
        { key: 'electronics', score: 0.64 },
        { key: 'home', score: 0.22 },
      ],
    },
    interests: {
      categories: [{ key: 'electronics>audio>headphones', score: 7.25 }],
      brands: [{ key: 'Sonora', score: 5.5 }],
    },
    preferences: {
      price_sensitivity: 'medium',
      price_ratio: 0.87,
      brand_loyalty: 0.64,
      preferred_hours: [9, 19, 8],
    },
    social: { follows_30d: 2, likes_30d: 6, comments_30d: 1, reviews_30d: 2, shares_30d: 1, avg_rating: 4.5 },
    recommendation_seeds: [
      { category: 'electronics>audio>headphones', reason: 'recent_interest', score: 0.9 },
      { category: 'home', reason: 'predicted_next', score: 0.22 },
    ],
    segments: ['brand_loyal', 'high_value'],
    risk: { score: 0.08, reasons: [] },
    freshness: { attributes: T0, features: T0, interests: T0, predictions: T0 - 2_000 },
    changed_fields: ['features', 'predictions', 'segments'],
  };
}

/** One example of every message, by name. */
export function exampleMessages(): { [N in MessageName]: MessageTypes[N] } {
  return {
    ClickEvent: exampleClickEvent(),
    DeadLetter: exampleDeadLetter(),
    ModelMetrics: exampleModelMetrics(),
    ModelUpdate: exampleModelUpdate(),
    ProfileUpdated: exampleProfileUpdated(),
    UserAttributes: exampleUserAttributes(),
    UserFeatures: exampleUserFeatures(),
  };
}
