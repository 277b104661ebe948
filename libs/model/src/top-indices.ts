/**
 * Indices of the n largest of values[offset .. offset + length), largest first, lower index first
 * on ties, skipping values that fail `keep`: a selection into a list of at most n (no sort of every
 * value, no pair per value) for the per-profile hot paths (next categories, busiest hours).
 * Returned indices are relative to `offset`.
 */
export function topIndices(
  values: ArrayLike<number>,
  n: number,
  offset = 0,
  length = values.length - offset,
  keep: (v: number) => boolean = () => true,
): number[] {
  const top: number[] = [];
  for (let c = 0; c < length; c++) {
    const v = values[offset + c];
    if (!keep(v) || (top.length === n && v <= values[offset + top[n - 1]])) continue;
    // Insert c at its place, shifting the smaller ones down (splice would allocate its result).
    let i = top.length < n ? top.length : n - 1;
    if (top.length < n) top.push(c);
    while (i > 0 && values[offset + top[i - 1]] < v) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = c;
  }
  return top;
}
