/**
 * The live mappings of a DMA-API domain, by their first pfn: who mapped what, so that an unmap
 * can be checked against it. Kept in parallel arrays indexed by a record id (ids are reused), so
 * that a map/unmap pair allocates nothing.
 */
import type { DmaDirection } from './device.js';

/** Directions in the order their codes are stored. */
export const DIRECTIONS: readonly DmaDirection[] = ['bidirectional', 'to-device', 'from-device'];

/** What a record remembers; the device is kept as an opaque owner. */
export class MappingTable<Owner> {
  private readonly byPfn = new Map<number, number>();
  private owner: Owner[] = [];
  private size: bigint[] = [];
  private pfn: Float64Array = new Float64Array(64);
  private pages: Float64Array = new Float64Array(64);
  private offset: Float64Array = new Float64Array(64);
  /** Direction code (index into {@link DIRECTIONS}) plus 4 for a coherent allocation. */
  private kind: Uint8Array = new Uint8Array(64);
  private readonly spare: number[] = [];
  private used = 0;

  get count(): number {
    return this.byPfn.size;
  }

  add(pfn: number, owner: Owner, pages: number, offset: number, size: bigint, dir: number, coherent: boolean): void {
    let id = this.spare.pop();
    if (id === undefined) {
      id = this.used++;
      if (id === this.pfn.length) this.grow();
    }
    this.owner[id] = owner;
    this.size[id] = size;
    this.pfn[id] = pfn;
    this.pages[id] = pages;
    this.offset[id] = offset;
    this.kind[id] = dir + (coherent ? 4 : 0);
    this.byPfn.set(pfn, id);
  }

  /** The record of the mapping starting at `pfn`, or -1. */
  find(pfn: number): number {
    return this.byPfn.get(pfn) ?? -1;
  }

  remove(id: number): void {
    this.byPfn.delete(this.pfn[id]);
    this.size[id] = 0n;
    this.spare.push(id);
  }

  ownerOf(id: number): Owner {
    return this.owner[id];
  }

  pagesOf(id: number): number {
    return this.pages[id];
  }

  offsetOf(id: number): number {
    return this.offset[id];
  }

  sizeOf(id: number): bigint {
    return this.size[id];
  }

  dirOf(id: number): DmaDirection {
    return DIRECTIONS[this.kind[id] & 3];
  }

  coherentOf(id: number): boolean {
    return this.kind[id] >= 4;
  }

  /** Calls `visit(pfn, id)` for every live record. */
  forEach(visit: (pfn: number, id: number) => void): void {
    for (const [pfn, id] of this.byPfn) visit(pfn, id);
  }

  private grow(): void {
    const n = this.pfn.length * 2;
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.pfn = grow64(this.pfn);
    this.pages = grow64(this.pages);
    this.offset = grow64(this.offset);
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
  }
}
