// One instance a turn: instances on their own pools race for each turn of a job, from a database
// that has no row for it yet; exactly one has each turn, and a turn comes round again once free.
import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { env } from "../env";
import { createDb } from "./client";
import { claimTurn } from "./turns";

const instances = Array.from({ length: 4 }, () => createDb(env().DATABASE_URL!, 2));
afterAll(async () => {
  await Promise.all(instances.map((i) => i.pool.end()));
});

it("gives each turn to exactly one of several instances, the first one included", async () => {
  const job = `turns_${randomBytes(4).toString("hex")}`;
  const t0 = Date.now();
  const race = async (at: number, gapMs: number) =>
    (await Promise.all(instances.map((i) => claimTurn(i.db, job, new Date(at), new Date(at - gapMs + 1))))).filter(
      Boolean,
    ).length;
  // No row yet: whoever makes it has the first turn, the others none.
  expect(await race(t0, 1000)).toBe(1);
  // Within the gap: nobody.
  expect(await race(t0 + 500, 1000)).toBe(0);
  expect(await race(t0 + 999, 1000)).toBe(0);
  // A gap later: one again, and again only one, however many times they race.
  for (let k = 1; k <= 5; k++) expect(await race(t0 + k * 1000, 1000)).toBe(1);
  // A clock behind the last turn never takes one.
  expect(await race(t0, 1000)).toBe(0);
});
