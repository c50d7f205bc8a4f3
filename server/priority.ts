// A child process at a lower CPU priority, so that the kernel runs everything else first when the
// cores are busy. A nice value alone does not do it on most Linux systems: with the kernel's
// autogroup (kernel.sched_autogroup_enabled=1, the default of Debian's and Ubuntu's kernels) CPU
// time is shared between sessions first and nice only orders the processes within one session, so
// a child niced in its parent's session takes its time from its parent alone and competes with
// every other session (MariaDB, the other processes, a load generator) at full weight. A child
// started in a session of its own (`detached: true`) is given its own group, and that group's nice
// is set here too.
import { readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

const clamp = (n: number) => Math.max(-20, Math.min(19, n));

/** The nice value of this process's autogroup, or null where there is none (not Linux, disabled). */
function ownGroupNice(): number | null {
  try {
    if (readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() !== "1") return null;
  } catch {
    return null;
  }
  return groupNiceOf("self");
}

/**
 * Puts `pid` (a child started with `detached: true`, so in a session of its own) `steps` nice steps
 * below this process, and its autogroup as many below this process's. Returns what could not be
 * done (an error text), or null.
 */
export function lowerPriority(pid: number, steps: number): string | null {
  const problems: string[] = [];
  try {
    setPriority(pid, clamp(getPriority() + steps));
  } catch (err) {
    problems.push(`nice: ${(err as Error).message}`);
  }
  const group = ownGroupNice();
  if (group !== null)
    try {
      writeFileSync(`/proc/${pid}/autogroup`, String(clamp(group + steps)));
    } catch (err) {
      problems.push(`autogroup: ${(err as Error).message}`);
    }
  return problems.length ? problems.join("; ") : null;
}

/** The nice value of `pid`'s autogroup (null: none). */
export function groupNiceOf(pid: number | "self"): number | null {
  try {
    const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
