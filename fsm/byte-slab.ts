/**
 * Copies of small byte strings that live as long as a VSI record (its VSIID), packed side by
 * side into shared buffers.
 *
 * Why: a 16-octet Uint8Array of its own brings an ArrayBuffer and a backing store (~130 bytes
 * of V8 heap) and two or three malloc'ed chunks. Ten thousand of them, made during a burst
 * among the burst's short-lived allocations, stay scattered over glibc's heap and keep its
 * pages resident after malloc_trim. A copy here is a view into a slab of `slabBytes`; no
 * slot is ever handed out twice, so a view stays valid as long as anyone holds it, and a
 * slab is freed by the GC once none of its views is left. The cost of that: one surviving
 * copy keeps its whole slab (`slabBytes`) alive.
 *
 * The copies must be treated as read-only, as the records already treat these IDs.
 */
export class ByteSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  constructor(private readonly slabBytes = 1024) {}

  /** a read-only copy of `b` (larger than a quarter slab: a buffer of its own) */
  copy(b: Uint8Array): Uint8Array {
    const n = b.length;
    if (n > this.slabBytes >> 2) return b.slice();
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + n);
    view.set(b);
    this.used += n;
    return view;
  }
}
