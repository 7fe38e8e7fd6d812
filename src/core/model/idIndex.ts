/**
 * Unit id → its number, for a million ids: an open-addressing hash table in one Int32Array
 * (FNV-1a over the id's UTF-16 units, linear probing) instead of a Map, whose entries cost
 * several times the ids' own memory and a fifth of a second to build at this size.
 */
export class IdIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(private readonly ids: readonly string[]) {
    let size = 16;
    while (size < ids.length * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let i = 0; i < ids.length; i++) {
      let s = hash(ids[i]!) & this.mask;
      // A repeated id takes its last number, as Map.set would.
      while (this.slots[s] !== -1 && ids[this.slots[s]!] !== ids[i]) s = (s + 1) & this.mask;
      this.slots[s] = i;
    }
  }

  /** The id's number, or -1. */
  get(id: string): number {
    let s = hash(id) & this.mask;
    for (;;) {
      const i = this.slots[s]!;
      if (i === -1) return -1;
      if (this.ids[i] === id) return i;
      s = (s + 1) & this.mask;
    }
  }
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // Mix the high bits down: the table uses the low ones.
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}
