// The presence buffer's per-room, per-member map: its size follows every set and delete, rooms
// with no member left are dropped, and pruning while walking removes exactly what it says.
import { describe, expect, it } from "vitest";
import { ByMember } from "./buffer";

describe("ByMember", () => {
  it("keeps values per room and member, counts them, and forgets empty rooms", () => {
    const m = new ByMember<number>();
    m.set(1, "a", 10);
    m.set(1, "b", 20);
    m.set(2, "a", 30);
    m.set(1, "a", 11);
    expect(m.size).toBe(3);
    expect([m.get(1, "a"), m.get(2, "a"), m.get(2, "b"), m.get(3, "a")]).toEqual([11, 30, undefined, undefined]);
    m.delete(2, "a");
    m.delete(2, "a");
    m.delete(9, "x");
    expect(m.size).toBe(2);
    expect([...m.values()].sort()).toEqual([11, 20]);
    m.prune((v) => v > 15);
    expect(m.size).toBe(1);
    expect([...m.values()]).toEqual([11]);
    m.prune(() => true);
    expect(m.size).toBe(0);
    expect([...m.values()]).toEqual([]);
  });
});
