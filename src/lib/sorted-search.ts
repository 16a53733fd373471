/** Binary search over ascending numbers, within `a[from..to)`. */

function search(a: ArrayLike<number>, x: number, from: number, to: number, past: boolean): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x || (past && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [from, to) whose value is ≥ x; `to` when there is none. */
export function lowerBound(a: ArrayLike<number>, x: number, from = 0, to: number = a.length): number {
  return search(a, x, from, to, false);
}

/** First index in [from, to) whose value is > x; `to` when there is none. */
export function upperBound(a: ArrayLike<number>, x: number, from = 0, to: number = a.length): number {
  return search(a, x, from, to, true);
}
