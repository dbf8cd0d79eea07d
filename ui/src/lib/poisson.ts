// The luck band: how many Bitcoin blocks a holder wins out of those the network found is,
// at a steady chance p per block, ≈ Poisson(λ = blocks × p).

/** ln(k!) via log-gamma (Lanczos), exact enough for quantiles. */
function lnFactorial(k: number): number {
  if (k < 2) return 0;
  let s = 0;
  if (k < 30) {
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  // Stirling series.
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

export function poissonPmf(k: number, lambda: number): number {
  if (lambda === 0) return k === 0 ? 1 : 0;
  return Math.exp(k * Math.log(lambda) - lambda - lnFactorial(k));
}

/** Smallest k with P(X ≤ k) ≥ p. */
export function poissonQuantile(lambda: number, p: number): number {
  if (lambda <= 0) return 0;
  let cdf = 0;
  const max = Math.ceil(lambda + 20 * Math.sqrt(lambda) + 20);
  for (let k = 0; k <= max; k++) {
    cdf += poissonPmf(k, lambda);
    if (cdf >= p - 1e-12) return k;
  }
  return max;
}

export interface LuckBand {
  expected: number;
  low: number;
  high: number;
}

/** The central 95 % band [low, high] of Poisson(λ). */
export function poissonBand95(lambda: number): LuckBand {
  return { expected: lambda, low: poissonQuantile(lambda, 0.025), high: poissonQuantile(lambda, 0.975) };
}

export type LuckVerdict = "lucky" | "normal" | "unlucky" | "none";

/** Where `won` lies against the band. */
export function luckVerdict(won: number, band: LuckBand): LuckVerdict {
  if (band.expected === 0 && won === 0) return "none";
  if (won > band.high) return "lucky";
  if (won < band.low) return "unlucky";
  return "normal";
}
