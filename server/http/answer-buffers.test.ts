// The answer buffers' pool: a buffer given back after its write is used again; nothing else is.
import { describe, expect, it } from "vitest";
import { answerBuffersKept, answerWritten, takeAnswerBuffer } from "./answer-buffers";

describe("answer buffers", () => {
  it("uses a buffer again once it is given back, in its size class", () => {
    const a = takeAnswerBuffer(35_000);
    expect(a.length).toBe(35_000);
    expect(a.buffer.byteLength).toBe(64 * 1024);
    // Taken and not given back: another one.
    const b = takeAnswerBuffer(40_000);
    expect(b.buffer).not.toBe(a.buffer);
    answerWritten(a);
    const c = takeAnswerBuffer(60_000);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(60_000);
    // A different class does not take it.
    answerWritten(c);
    expect(takeAnswerBuffer(20_000).buffer).not.toBe(a.buffer);
    expect(takeAnswerBuffer(50_000).buffer).toBe(a.buffer);
  });

  it("takes back each buffer once, and only its own", () => {
    const a = takeAnswerBuffer(100_000);
    answerWritten(a);
    answerWritten(a);
    const b = takeAnswerBuffer(100_000);
    const c = takeAnswerBuffer(100_000);
    expect(b.buffer).toBe(a.buffer);
    // Given back twice, it would be both of these at once.
    expect(c.buffer).not.toBe(b.buffer);
    // Not the pool's: ignored.
    const before = answerBuffersKept().freeBytes;
    answerWritten(Buffer.alloc(100_000));
    answerWritten(Buffer.from(new ArrayBuffer(128 * 1024), 0, 100_000));
    answerWritten("text");
    expect(answerBuffersKept().freeBytes).toBe(before);
  });

  it("leaves short and very long answers to the allocator, and keeps a bounded number free", () => {
    const short = takeAnswerBuffer(1000);
    const long = takeAnswerBuffer(3 * 1024 * 1024);
    expect(long.length).toBe(3 * 1024 * 1024);
    const before = answerBuffersKept().freeBytes;
    answerWritten(short);
    answerWritten(long);
    expect(answerBuffersKept().freeBytes).toBe(before);
    // Thirty 1-MiB buffers given back: at most 8 MiB kept.
    const many = Array.from({ length: 30 }, () => takeAnswerBuffer(1024 * 1024));
    for (const b of many) answerWritten(b);
    expect(answerBuffersKept().freeBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(answerBuffersKept().freeBytes).toBeGreaterThanOrEqual(7 * 1024 * 1024);
  });
});
