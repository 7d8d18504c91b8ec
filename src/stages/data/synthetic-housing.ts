import { createRng } from '../ml/random.ts';
import { blend, clamp, exponential, pickIndex, round } from './sampling.ts';
import { parseSyntheticOptions, type SyntheticOptionsInput } from './synthetic-options.ts';
import { createTable, type Table } from './table.ts';

/**
 * A house-price dataset for regression demos and tests. `price` is a linear function of
 * the features (`housingPrice`) plus Gaussian noise with a standard deviation of
 * `HOUSING_NOISE`, so a linear model can recover it and its RMSE has a known floor.
 */
export const HOUSING = { target: 'price', task: 'regression', pii: [] } as const;

export const NEIGHBOURHOODS = [
  'central',
  'old_town',
  'riverside',
  'suburbs',
  'hillside',
  'industrial',
] as const;
export type Neighbourhood = (typeof NEIGHBOURHOODS)[number];

/** Neighbourhood frequencies at drift 0 and 1 (drifted: sales move out of the centre). */
const SHARES = {
  reference: [0.15, 0.1, 0.15, 0.3, 0.15, 0.15],
  drifted: [0.05, 0.05, 0.1, 0.35, 0.15, 0.3],
};
/** Typical distance to the centre in km, by neighbourhood. */
const DISTANCE: Record<Neighbourhood, number> = {
  central: 1.5,
  old_town: 3,
  riverside: 6,
  suburbs: 12,
  hillside: 9,
  industrial: 7,
};
const PREMIUM: Record<Neighbourhood, number> = {
  central: 60_000,
  old_town: 40_000,
  riverside: 30_000,
  suburbs: 0,
  hillside: 10_000,
  industrial: -30_000,
};
/** Standard deviation of the price noise. */
export const HOUSING_NOISE = 25_000;

export type HousingFeatures = {
  area: number;
  rooms: number;
  age: number;
  distance_center: number;
  neighbourhood: Neighbourhood;
};

/** The noise-free price: what a perfect model would predict. */
export function housingPrice(features: HousingFeatures): number {
  return (
    40_000 +
    2_200 * features.area +
    8_000 * features.rooms -
    600 * features.age -
    4_000 * features.distance_center +
    PREMIUM[features.neighbourhood]
  );
}

export function generateHousing(input: SyntheticOptionsInput = {}): Table {
  const { rows, seed, drift } = parseSyntheticOptions(input);
  const rng = createRng(seed);
  const shares = blend(SHARES.reference, SHARES.drifted, drift);

  const area = new Float64Array(rows);
  const rooms = new Float64Array(rows);
  const age = new Float64Array(rows);
  const distance = new Float64Array(rows);
  const neighbourhoods: string[] = [];
  const price = new Float64Array(rows);

  for (let i = 0; i < rows; i++) {
    // Always the same draws in the same order; drift only changes how they are used.
    const uPlace = rng.next();
    const zArea = rng.normal();
    const zRooms = rng.normal();
    const uAge = rng.next();
    const zDistance = rng.normal();
    const zPrice = rng.normal();

    const place = NEIGHBOURHOODS[pickIndex(uPlace, shares)] ?? 'suburbs';
    const features: HousingFeatures = {
      area: Math.max(20, round(85 * Math.exp(0.35 * zArea) * (1 + 0.2 * drift))),
      rooms: 0,
      age: Math.min(120, round(exponential(uAge, 30 * (1 + 0.5 * drift)))),
      distance_center: round(DISTANCE[place] * Math.exp(0.35 * zDistance) * (1 + 0.3 * drift), 1),
      neighbourhood: place,
    };
    features.rooms = clamp(round(features.area / 28 + 0.6 * zRooms), 1, 10);

    area[i] = features.area;
    rooms[i] = features.rooms;
    age[i] = features.age;
    distance[i] = features.distance_center;
    neighbourhoods.push(place);
    price[i] = Math.max(20_000, round(housingPrice(features) + HOUSING_NOISE * zPrice, -2));
  }

  return createTable([
    { name: 'area', type: 'numeric', values: area },
    { name: 'rooms', type: 'numeric', values: rooms },
    { name: 'age', type: 'numeric', values: age },
    { name: 'distance_center', type: 'numeric', values: distance },
    { name: 'neighbourhood', type: 'categorical', values: neighbourhoods },
    { name: 'price', type: 'numeric', values: price },
  ]);
}
