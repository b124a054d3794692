/**
 * Python's `round(x, 1)` for finite doubles (the original's candidate-stats average).
 *
 * Python rounds the exact binary value of `x` to the nearest multiple of 0.1 and breaks exact ties
 * to even. `toFixed(1)` also works on the exact value but breaks ties away from zero, so ties are
 * handled here. A double lies exactly halfway between two tenths only when it equals j/4 with j odd
 * (a tie is (2m+1)/20, and a dyadic rational can only equal that when 5 divides 2m+1), which
 * `x * 4` (exact: a power-of-two scaling) detects. Examples: 7.25 → 7.2 (tie), 7.35 → 7.3 (its
 * double is 7.34999…), 0.05 → 0.1 (its double is 0.05000…03).
 */
export function pyRound1(x: number): number {
  if (!Number.isFinite(x)) return x;
  const quarters = x * 4;
  if (Number.isInteger(quarters) && Math.abs(quarters % 2) === 1) {
    const lo = Math.floor(x * 10); // x * 10 = 2.5 * odd: exact
    const tenths = lo % 2 === 0 ? lo : lo + 1;
    return tenths / 10;
  }
  return Number(x.toFixed(1));
}
