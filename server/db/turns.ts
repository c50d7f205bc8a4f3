// Periodic work that one instance of many does per turn (the figures refresh, the media servers'
// listings, the audience chart): the instance that moves the job's `run_at` in job_runs past the
// turn's start has it. A conditional UPDATE, so two instances never both have a turn.
import { sql } from "drizzle-orm";
import type { Db } from "./client";

/** Jobs whose row this process has seen in each database (the row is made once, by whoever comes first). */
const known = new WeakMap<Db, Set<string>>();

/**
 * Whether this instance has the turn: `job` last ran before `freeBefore` (strictly), and now runs at
 * `at`. On a database without the job's row yet, the instance that inserts it has the turn.
 */
export async function claimTurn(db: Db, job: string, at: Date, freeBefore: Date): Promise<boolean> {
  const [moved] = (await db.execute(sql`
    UPDATE job_runs SET run_at = ${at} WHERE name = ${job} AND run_at < ${freeBefore}`)) as unknown as [
    { affectedRows: number },
  ];
  if (moved.affectedRows > 0) return true;
  let jobs = known.get(db);
  if (jobs?.has(job)) return false;
  const [made] = (await db.execute(
    sql`INSERT IGNORE INTO job_runs (name, run_at) VALUES (${job}, ${at})`,
  )) as unknown as [{ affectedRows: number }];
  if (!jobs) known.set(db, (jobs = new Set()));
  jobs.add(job);
  return made.affectedRows > 0;
}
