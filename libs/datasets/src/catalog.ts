/**
 * The simulated shop: categories with brands in three price tiers, and who likes what. The
 * affinities make the latent persona learnable from behaviour (age and gender shape favourite
 * categories and brands; consumption level shapes brand tier and price).
 */

export const AGE_BANDS = ['<=15', '16-25', '26-35', '36-45', '46-55', '56+'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];
/** Population share of each age band among shoppers. */
export const AGE_BAND_WEIGHTS = [0.04, 0.24, 0.32, 0.2, 0.12, 0.08];

export const GENDERS = ['female', 'male'] as const;
export type Gender = (typeof GENDERS)[number];

export const CONSUMPTION_LEVELS = ['low', 'medium', 'high'] as const;
export type ConsumptionLevel = (typeof CONSUMPTION_LEVELS)[number];
export const CONSUMPTION_WEIGHTS = [0.35, 0.45, 0.2];

/** Price multiplier of a brand tier (0 budget, 1 mid, 2 premium). */
export const TIER_PRICE = [0.55, 1, 2.4];

export interface CategorySpec {
  /** Category path, `a>b`. */
  path: string;
  /** Median unit price of a mid-tier item. */
  medianPrice: number;
  /** Affinity multipliers: [female, male]. */
  gender: readonly [number, number];
  /** Affinity multipliers per age band (AGE_BANDS order). */
  age: readonly [number, number, number, number, number, number];
  /** Six brands: two budget, two mid, two premium (tier = floor(index / 2)). */
  brands: readonly string[];
  /** Search words. */
  words: readonly string[];
  /** Items in the category (ids `<prefix>-<n>`). */
  items: number;
}

export const CATEGORIES: readonly CategorySpec[] = [
  { path: 'fashion>women', medianPrice: 45, gender: [3, 0.15], age: [0.6, 1.6, 1.4, 1, 0.7, 0.5], brands: ['Lumina', 'Petal', 'Verve', 'Aurelle', 'Maison Clair', 'Ostra'], words: ['dress', 'skirt', 'blouse', 'coat'], items: 400 },
  { path: 'fashion>men', medianPrice: 50, gender: [0.2, 2.6], age: [0.5, 1.5, 1.4, 1.1, 0.8, 0.6], brands: ['Stride', 'Ironweave', 'Northcut', 'Halden', 'Vantor', 'Sable & Co'], words: ['shirt', 'jeans', 'jacket', 'suit'], items: 300 },
  { path: 'fashion>shoes', medianPrice: 70, gender: [1.3, 1], age: [0.8, 1.6, 1.3, 1, 0.8, 0.6], brands: ['Kickr', 'Runlite', 'Pacer', 'Trailborn', 'Aerix', 'Velluto'], words: ['sneakers', 'running shoes', 'boots'], items: 250 },
  { path: 'beauty>skincare', medianPrice: 30, gender: [3.2, 0.25], age: [0.3, 1.5, 1.5, 1.2, 1, 0.8], brands: ['Dewly', 'Purea', 'Skinlab', 'Celeste', 'Lumière', 'Orchidée'], words: ['moisturizer', 'serum', 'sunscreen', 'face mask'], items: 300 },
  { path: 'beauty>makeup', medianPrice: 22, gender: [3.5, 0.08], age: [0.6, 2, 1.4, 0.9, 0.6, 0.4], brands: ['Blush', 'Glint', 'Rouge', 'Velvet', 'Noir', 'Éclat'], words: ['lipstick', 'foundation', 'mascara', 'eyeshadow'], items: 250 },
  { path: 'electronics>phones', medianPrice: 420, gender: [0.9, 1.3], age: [0.7, 1.6, 1.3, 1, 0.8, 0.6], brands: ['Novi', 'Redline', 'Pixon', 'Zeta', 'Orbit', 'Apex'], words: ['smartphone', '5g phone', 'phone case', 'charger'], items: 150 },
  { path: 'electronics>gaming', medianPrice: 80, gender: [0.35, 2.6], age: [2.6, 2.2, 1.1, 0.6, 0.3, 0.1], brands: ['Bitforge', 'Pixelpad', 'Joyline', 'Raptor', 'Nexa', 'Titan'], words: ['game', 'controller', 'gaming headset', 'console'], items: 200 },
  { path: 'electronics>audio', medianPrice: 90, gender: [0.8, 1.4], age: [1.2, 1.7, 1.2, 0.9, 0.6, 0.4], brands: ['Sonix', 'Beatline', 'Echo', 'Sonora', 'Auralis', 'Harmon'], words: ['headphones', 'earbuds', 'speaker'], items: 150 },
  { path: 'computers>laptops', medianPrice: 780, gender: [0.7, 1.5], age: [0.4, 1.4, 1.4, 1.2, 0.8, 0.5], brands: ['Corex', 'Lapto', 'Vertex', 'Quanta', 'Stratos', 'Zenith'], words: ['laptop', 'notebook', 'ultrabook'], items: 120 },
  { path: 'home>kitchen', medianPrice: 35, gender: [1.4, 0.8], age: [0.1, 0.6, 1.2, 1.5, 1.6, 1.5], brands: ['Cookwell', 'Hearth', 'Panora', 'Brio', 'Cucina', 'Gourmand'], words: ['pan', 'knife set', 'blender', 'kettle'], items: 250 },
  { path: 'home>furniture', medianPrice: 160, gender: [1.2, 0.9], age: [0.1, 0.6, 1.5, 1.4, 1.2, 1], brands: ['Plank', 'Nook', 'Loftus', 'Oakmere', 'Arden', 'Nordlys'], words: ['sofa', 'desk', 'bookshelf', 'bed frame'], items: 180 },
  { path: 'baby>care', medianPrice: 25, gender: [2, 0.6], age: [0, 0.3, 2.4, 1.6, 0.3, 0.2], brands: ['Tiny', 'Cuddle', 'Little Ones', 'Nestle Baby', 'Bambino', 'Doux'], words: ['diapers', 'baby wipes', 'stroller', 'baby formula'], items: 200 },
  { path: 'toys>kids', medianPrice: 28, gender: [1.1, 0.9], age: [1.2, 0.4, 1.5, 1.6, 0.8, 0.9], brands: ['Blocko', 'Funbox', 'Wonder', 'Kiddo', 'Marvelo', 'Imagin'], words: ['lego', 'doll', 'puzzle', 'toy car'], items: 250 },
  { path: 'sports>outdoor', medianPrice: 60, gender: [0.8, 1.4], age: [0.8, 1.3, 1.3, 1.2, 1, 0.7], brands: ['Trek', 'Summit', 'Alpin', 'Ridge', 'Peakline', 'Everest'], words: ['tent', 'backpack', 'hiking', 'yoga mat', 'bicycle'], items: 220 },
  { path: 'health>supplements', medianPrice: 25, gender: [1.1, 0.9], age: [0.1, 0.5, 0.8, 1.2, 1.8, 2.6], brands: ['Vita', 'Pure Life', 'Natura', 'Optima', 'Vitalis', 'Elixa'], words: ['vitamins', 'protein', 'fish oil', 'calcium'], items: 180 },
  { path: 'grocery>snacks', medianPrice: 6, gender: [1.1, 0.9], age: [1.6, 1.4, 1, 0.9, 0.8, 0.8], brands: ['Munch', 'Crunchy', 'Savor', 'Delish', 'Artisan', 'Gourmet'], words: ['snacks', 'chocolate', 'coffee', 'tea'], items: 300 },
  { path: 'books>reading', medianPrice: 14, gender: [1.1, 0.9], age: [1.3, 1, 0.9, 1, 1.3, 1.8], brands: ['Pageturn', 'Inkwell', 'Folio', 'Quill', 'Lexicon', 'Parchment'], words: ['novel', 'cookbook', 'textbook', 'biography'], items: 400 },
  { path: 'jewelry>watches', medianPrice: 150, gender: [1.4, 0.9], age: [0.1, 0.8, 1.3, 1.3, 1.1, 0.8], brands: ['Glimmer', 'Tempo', 'Aurum', 'Chrona', 'Regalia', 'Sovereign'], words: ['watch', 'necklace', 'ring', 'bracelet'], items: 150 },
  { path: 'auto>accessories', medianPrice: 40, gender: [0.3, 2.2], age: [0, 0.7, 1.3, 1.4, 1.2, 0.8], brands: ['Roadie', 'Gearhead', 'Motiva', 'Torque', 'Autobahn', 'Veloce'], words: ['car charger', 'dash cam', 'seat cover', 'tires'], items: 150 },
  { path: 'pets>supplies', medianPrice: 20, gender: [1.3, 0.8], age: [0.4, 1, 1.2, 1.1, 1.1, 1.1], brands: ['Paws', 'Whisker', 'Fetch', 'Purrfect', 'Barkley', 'Regal Pet'], words: ['dog food', 'cat litter', 'pet toy'], items: 150 },
];

export interface CitySpec {
  city: string;
  region: string;
  /** First two octets of the city's residential IP range. */
  net: readonly [number, number];
  weight: number;
}

export const CITIES: readonly CitySpec[] = [
  { city: 'Shanghai', region: 'Shanghai', net: [101, 80], weight: 14 },
  { city: 'Beijing', region: 'Beijing', net: [123, 112], weight: 13 },
  { city: 'Guangzhou', region: 'Guangdong', net: [113, 64], weight: 9 },
  { city: 'Shenzhen', region: 'Guangdong', net: [119, 123], weight: 9 },
  { city: 'Chengdu', region: 'Sichuan', net: [171, 208], weight: 7 },
  { city: 'Hangzhou', region: 'Zhejiang', net: [115, 192], weight: 7 },
  { city: 'Wuhan', region: 'Hubei', net: [58, 48], weight: 6 },
  { city: "Xi'an", region: 'Shaanxi', net: [117, 32], weight: 5 },
  { city: 'Nanjing', region: 'Jiangsu', net: [180, 110], weight: 5 },
  { city: 'Chongqing', region: 'Chongqing', net: [106, 80], weight: 6 },
  { city: 'Tianjin', region: 'Tianjin', net: [60, 24], weight: 4 },
  { city: 'Suzhou', region: 'Jiangsu', net: [49, 72], weight: 4 },
  { city: 'Changsha', region: 'Hunan', net: [175, 0], weight: 4 },
  { city: 'Harbin', region: 'Heilongjiang', net: [221, 208], weight: 3 },
  { city: 'Kunming', region: 'Yunnan', net: [182, 240], weight: 3 },
];
export const CITY_WEIGHTS = CITIES.map((c) => c.weight);

export const REFERRERS = ['direct', 'search_engine', 'social', 'email', 'ads', 'affiliate'];
export const REFERRER_WEIGHTS = [0.4, 0.22, 0.16, 0.07, 0.11, 0.04];

/** Item id of item `n` of category `c`. */
export function itemId(c: number, n: number): string {
  return `sku-${c + 1}-${n + 1}`;
}
