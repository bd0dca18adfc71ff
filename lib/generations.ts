/**
 * A bounded memo for work that is reused close together (the same auction's responses across the
 * rows of one bench query): at most 2 x `cap` entries, kept in two generations. When the young
 * generation fills it becomes the old one and the previous old one is dropped; a hit in the old
 * generation moves the entry to the young one. Unlike emptying a single map when it fills, the
 * entries used last are never all lost at once.
 */
export class Generations<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly cap: number) {}

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: K, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
