/**
 * ES2024's resizable ArrayBuffers and growable SharedArrayBuffers, which Node 20 has and the ES2022 typings this
 * project compiles against do not describe (as in test/hardening.test.ts). Local types, not global declarations:
 * the typecheck of lib/ must keep refusing these APIs.
 */

/** An ArrayBuffer made with a maxByteLength. */
export interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  readonly resizable: boolean;
  resize(byteLength: number): void;
}

/** A SharedArrayBuffer as Node 20 has it: `growable` false and `maxByteLength` its length unless made growable. */
export interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  readonly growable: boolean;
  grow(byteLength: number): void;
}

export const ResizableArrayBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

export const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  byteLength: number,
  options?: { maxByteLength: number },
) => GrowableSharedArrayBuffer;

/** Every SharedArrayBuffer has the ES2024 properties at run time (Node 20): this only tells the compiler so. */
export function asGrowable(b: SharedArrayBuffer): GrowableSharedArrayBuffer {
  return b as GrowableSharedArrayBuffer;
}
