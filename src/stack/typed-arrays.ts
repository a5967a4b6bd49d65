// Growing the struct-of-arrays pools: a bigger array of the same type with the old
// contents copied in. Rare (capacity doubles), so the allocation is fine.

export type NumberArray =
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float64Array;

export function grownCopy<T extends NumberArray>(old: T, capacity: number): T {
  const fresh = new (old.constructor as new (length: number) => T)(capacity);
  fresh.set(old);
  return fresh;
}
