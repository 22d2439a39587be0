// Work over many items with a bound on how much of it is under way at once: blob reads and writes, each a round
// trip to the store, are slow one after another and unbounded all together.

/** Calls `work` for every item, at most `limit` at a time, and settles once all have; the first failure rejects. */
export async function atOnce<Item>(items: readonly Item[], limit: number, work: (item: Item, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
