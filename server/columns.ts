// Numbers and strings per slot, in columns: one Float64Array for every slot's numbers and one
// array for its strings, slots reused once removed. Where a process keeps something for each of
// 100,000 viewers, an object each (a dozen fields) is what a whole collection of its heap spends
// most of its time marking; the collector does not look into a typed array, and the strings are
// leaves. The columns keep the size of the most slots held at once (they grow by doubling).
export class Columns {
  private nums = new Float64Array(0);
  private strs: Array<string | undefined> = [];
  private free: number[] = [];
  /** Slots made so far (in use or free). */
  private made = 0;
  /** Slots in use. */
  size = 0;
  constructor(
    private readonly fields: number,
    private readonly texts: number,
  ) {}

  /** A slot, its numbers 0 and its strings undefined. */
  add(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.made++;
      for (let i = 0; i < this.texts; i++) this.strs.push(undefined);
      if (this.made * this.fields > this.nums.length) {
        const grown = new Float64Array(Math.max(1024, this.made * 2) * this.fields);
        grown.set(this.nums);
        this.nums = grown;
      }
    } else this.nums.fill(0, slot * this.fields, (slot + 1) * this.fields);
    this.size++;
    return slot;
  }
  remove(slot: number) {
    this.strs.fill(undefined, slot * this.texts, (slot + 1) * this.texts);
    this.free.push(slot);
    this.size--;
  }
  get(slot: number, field: number): number {
    return this.nums[slot * this.fields + field]!;
  }
  set(slot: number, field: number, v: number) {
    this.nums[slot * this.fields + field] = v;
  }
  text(slot: number, i: number): string | undefined {
    return this.strs[slot * this.texts + i];
  }
  setText(slot: number, i: number, v: string | undefined) {
    this.strs[slot * this.texts + i] = v;
  }
}
