// Buffers for long answers made per request (AUI's RoomInfo pages: 34 KiB for 20 rooms), used
// again once the socket has written them. A fresh buffer per answer is a malloc and a free of that
// size thousands of times a second, and glibc gives the top of its heap back to the kernel whenever
// enough of it is free: after some loads (a run of 随心播 heartbeats first) every page of every
// answer was a page fault again — 5 faults an answer, 20,000 a second, and the front's CPU per AUI
// page 273–307 µs instead of 76–85 (measured: process.resourceUsage().minorPageFault per second;
// with MALLOC_TRIM_THRESHOLD_ raised the faults and the cost went away). Buffers kept here are
// touched once and stay mapped, whatever the allocator does.
//
// A buffer is taken for one answer, handed to exactly one writer, and given back by that writer
// when the write has completed (its callback: the kernel has the bytes), or never (then the
// garbage collector has it, as before). Only buffers taken here and not given back yet are taken
// back, each once: a buffer given back twice, or one that was never this pool's, is ignored.

/** Smallest size class: shorter answers use node's own 8 KiB pool (Buffer.allocUnsafe). */
const MIN_CLASS = 8 * 1024;
/** Largest size class kept: longer answers are allocated and freed as before. */
const MAX_CLASS = 1024 * 1024;
/** Bytes kept free at most, over all size classes (buffers given back beyond it are dropped). */
const MAX_FREE_BYTES = 8 * 1024 * 1024;

const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
/** Buffers taken and not given back yet. */
const out = new WeakSet<ArrayBuffer>();

const classOf = (n: number) => (n <= MIN_CLASS ? MIN_CLASS : 2 ** Math.ceil(Math.log2(n)));

/** A buffer of exactly `n` bytes (contents undefined) for one answer; give it back once written. */
export function takeAnswerBuffer(n: number): Buffer {
  if (n < 4096) return Buffer.allocUnsafe(n);
  const size = classOf(n);
  if (size > MAX_CLASS) return Buffer.allocUnsafeSlow(n);
  const kept = free.get(size)?.pop();
  let ab: ArrayBuffer;
  if (kept) {
    freeBytes -= size;
    ab = kept;
  } else ab = new ArrayBuffer(size);
  out.add(ab);
  return Buffer.from(ab, 0, n);
}

/** Gives back a buffer whose write has completed (anything else is ignored). */
export function answerWritten(b: Buffer | string): void {
  if (typeof b === "string") return;
  const ab = b.buffer;
  if (!(ab instanceof ArrayBuffer) || !out.delete(ab)) return;
  const size = ab.byteLength;
  if (freeBytes + size > MAX_FREE_BYTES) return;
  let list = free.get(size);
  if (!list) free.set(size, (list = []));
  list.push(ab);
  freeBytes += size;
}

/** What the pool holds (tests). */
export const answerBuffersKept = () => ({ freeBytes, classes: [...free].map(([size, l]) => [size, l.length]) });
