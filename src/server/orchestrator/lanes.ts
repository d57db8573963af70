// One lane per key (an execution): work for a key runs one piece at a time, and the items that
// arrive while one runs are handed over together to the next run — under load, reports from
// many workers for one execution become one write instead of queueing on its lock.
export class Lanes<T> {
  private readonly lanes = new Map<string, { waiting: { item: T; done: (err?: unknown) => void }[] }>();

  constructor(private readonly run: (key: string, items: T[]) => Promise<void>) {}

  submit(key: string, item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: unknown) => (err === undefined ? resolve() : reject(err));
      const lane = this.lanes.get(key);
      if (lane) return void lane.waiting.push({ item, done });
      const fresh = { waiting: [{ item, done }] };
      this.lanes.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  private async drain(key: string, lane: { waiting: { item: T; done: (err?: unknown) => void }[] }) {
    while (lane.waiting.length > 0) {
      const batch = lane.waiting.splice(0);
      try {
        await this.run(
          key,
          batch.map((b) => b.item),
        );
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err ?? new Error("failed"));
      }
    }
    this.lanes.delete(key);
  }
}
