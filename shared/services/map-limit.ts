/**
 * Runs `fn` over `items` with at most `limit` in flight, keeping the results in input order: the
 * bounded fan-out the reports (one query per day or index scope) and the bulk import (one intake
 * per row) use so a request never floods DynamoDB or outlives its function's timeout.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
