// The heartbeat flush writes times as text it makes itself: exactly what mysql2 writes for the same
// Date on onair's pool (timezone "Z"), for any millisecond.
import mysql from "mysql2";
import { describe, expect, it } from "vitest";
import { sqlTime } from "./buffer";

describe("sqlTime", () => {
  it("matches mysql2's own literal for a Date", () => {
    const seconds = new Map<number, string>();
    const samples = [0, 1, 9, 10, 99, 100, 999, 1000, 86_399_999, Date.UTC(2024, 1, 29, 23, 59, 59, 999)];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000)); // to 2100
    const now = Date.now();
    for (let i = 0; i < 1500; i++) samples.push(now + i); // a flush's worth: a second or two, shared
    for (const ms of samples)
      expect(`'${sqlTime(ms, seconds)}'`, String(ms)).toBe(mysql.format("?", [new Date(ms)], false, "Z"));
  });
});
