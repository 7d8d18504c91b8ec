/**
 * Seeded randomness for the numeric core. Every stochastic step in training (splits,
 * bootstraps, feature sampling, shuffles) draws from an `Rng` built from a seed the run
 * records, so a retried stage attempt reproduces the same model bit for bit. `Math.random`
 * is never used.
 *
 * The generator is xoshiro128** (Blackman & Vigna): 32-bit state words fit V8's integer
 * arithmetic via `Math.imul`, it passes BigCrush, and its period (2^128 - 1) is plenty for
 * a forest's worth of bootstraps. The seed is expanded with splitmix32 so nearby seeds
 * (0, 1, 2, ...) give unrelated streams.
 */
export type Rng = {
  /** The next raw 32-bit output, as an unsigned integer. */
  uint32(): number;
  /** Uniform on [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer on [0, n). */
  int(n: number): number;
  /** Standard normal (mean 0, variance 1). */
  normal(): number;
  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T;
  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** A new generator seeded from this one, for work that must not disturb this stream. */
  fork(): Rng;
};

/** Builds a generator from any integer seed; the same seed always gives the same stream. */
export function createRng(seed: number): Rng {
  // Seeds are taken modulo 2^32; fractional ones still map to a fixed 32-bit value.
  let x = Number.isInteger(seed) ? seed >>> 0 : Math.floor(Math.abs(seed) * 0x9e3779b9) >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return fromState(splitmix(), splitmix(), splitmix(), splitmix());
}

/**
 * A generator from raw xoshiro128** state words. Exposed so tests can check the stream
 * against the reference implementation; callers normally use `createRng`.
 */
export function fromState(a: number, b: number, c: number, d: number): Rng {
  let s0 = a >>> 0;
  let s1 = b >>> 0;
  let s2 = c >>> 0;
  let s3 = d >>> 0;
  // An all-zero state is the one fixed point of xoshiro; nudge it.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  let spare = Number.NaN;

  const uint32 = (): number => {
    const t = Math.imul(s1, 5);
    const result = Math.imul((t << 7) | (t >>> 25), 9) >>> 0;
    const u = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= u;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  const next = (): number => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / 9007199254740992;
  const int = (n: number): number => Math.floor(next() * n);

  const rng: Rng = {
    uint32,
    next,
    int,
    normal() {
      // Marsaglia's polar method yields two values; keep the second for the next call.
      if (!Number.isNaN(spare)) {
        const value = spare;
        spare = Number.NaN;
        return value;
      }
      let u = 0;
      let v = 0;
      let s = 0;
      do {
        u = 2 * next() - 1;
        v = 2 * next() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const factor = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * factor;
      return u * factor;
    },
    shuffle(array) {
      for (let i = array.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = array[i];
        array[i] = array[j];
        array[j] = tmp;
      }
      return array;
    },
    permutation(n) {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = i;
      return rng.shuffle(out);
    },
    fork() {
      return fromState(uint32(), uint32(), uint32(), uint32());
    },
  };
  return rng;
}
