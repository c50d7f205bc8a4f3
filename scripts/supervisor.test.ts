// The supervisor's restart policy with real (tiny) child processes and short delays: a crashed
// process comes back after a doubling, capped delay; a crash loop makes it give up; a process that
// ran healthily starts over from the first delay; stop() stops the last started first.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Supervisor } from "./lib/supervisor";

const node = (code: string) => [process.execPath, ["-e", code]] as const;
const until = async (cond: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};
const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("Supervisor", () => {
  it("restarts a crashing process with a doubling, capped delay and gives up on a crash loop", async () => {
    const lines: string[] = [];
    const gaveUp: string[] = [];
    const s = new Supervisor({
      log: (l) => lines.push(l),
      onGiveUp: (r) => gaveUp.push(r),
      policy: { initialDelayMs: 20, maxDelayMs: 80, maxCrashes: 5, windowMs: 60_000, healthyAfterMs: 60_000 },
    });
    const [cmd, args] = node("process.exit(3)");
    s.run("worker", cmd, [...args]);
    await until(() => gaveUp.length > 0);
    expect(lines.slice(0, 5)).toEqual([
      "[onair] worker process exited (exit code 3); restarting in 0.02 s (restart 1)",
      "[onair] worker process exited (exit code 3); restarting in 0.04 s (restart 2)",
      "[onair] worker process exited (exit code 3); restarting in 0.08 s (restart 3)",
      "[onair] worker process exited (exit code 3); restarting in 0.08 s (restart 4)",
      "[onair] worker process exited (exit code 3); restarting in 0.08 s (restart 5)",
    ]);
    expect(lines[5]).toMatch(/worker process exited \(exit code 3\); the worker process crashed 6 times within 60 s/);
    expect(gaveUp).toEqual(["the worker process crashed 6 times within 60 s"]);
    // Nothing is started again after giving up.
    await new Promise((r) => setTimeout(r, 300));
    expect(lines).toHaveLength(6);
    expect(s.isStopping).toBe(true);
  });

  it("starts over from the first delay after a process ran healthily, and restarts a killed one", async () => {
    const lines: string[] = [];
    const s = new Supervisor({
      log: (l) => lines.push(l),
      onGiveUp: () => {},
      policy: { initialDelayMs: 20, maxDelayMs: 80, maxCrashes: 5, windowMs: 60_000, healthyAfterMs: 250 },
    });
    const [cmd, args] = node("setTimeout(() => process.exit(1), 400)");
    s.run("steady", cmd, [...args]);
    const [cmd2, args2] = node("setInterval(() => {}, 1000)");
    s.run("long", cmd2, [...args2]);
    await until(() => lines.filter((l) => l.startsWith("[onair] steady")).length >= 3);
    // Each crash came after a healthy run: always the first delay, never a growing one.
    for (const l of lines.filter((x) => x.startsWith("[onair] steady")))
      expect(l).toBe("[onair] steady process exited (exit code 1); restarting in 0.02 s (restart 1)");

    const before = s.pids().long!;
    process.kill(before, "SIGKILL");
    await until(() => !!s.pids().long && s.pids().long !== before);
    expect(lines).toContain("[onair] long process exited (SIGKILL); restarting in 0.02 s (restart 1)");
    expect(alive(s.pids().long)).toBe(true);
    await s.stop();
    expect(alive(s.pids().long)).toBe(false);
  });

  it("stops the last started process first, kills one that ignores SIGTERM, and restarts nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-sup-"));
    const file = join(dir, "order");
    const lines: string[] = [];
    const s = new Supervisor({
      log: (l) => lines.push(l),
      onGiveUp: () => {},
      policy: { initialDelayMs: 20, stopTimeoutMs: 300 },
    });
    const ready = join(dir, "ready");
    const script = (name: string, onTerm: string) =>
      `const fs = require("fs"); process.on("SIGTERM", () => { ${onTerm} }); ` +
      `fs.appendFileSync(${JSON.stringify(ready)}, "${name}\\n"); setInterval(() => {}, 1000)`;
    const graceful = (name: string) =>
      script(name, `fs.appendFileSync(${JSON.stringify(file)}, "${name}\\n"); process.exit(0);`);
    s.run("first", process.execPath, ["-e", graceful("first")]);
    s.run("second", process.execPath, ["-e", graceful("second")]);
    s.run("stubborn", process.execPath, ["-e", script("stubborn", "")]);
    // Let them install their handlers.
    await until(() => existsSync(ready) && readFileSync(ready, "utf8").split("\n").length === 4);
    const pids = Object.values(s.pids());
    expect(pids.every(alive)).toBe(true);
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(readFileSync(file, "utf8")).toBe("second\nfirst\n");
    expect(pids.some(alive)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(lines).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("kills what a process left running when it was killed (its ffmpeg, its workers), and again on stop()", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-sup-"));
    const kids = join(dir, "kids");
    const s = new Supervisor({ log: () => {}, onGiveUp: () => {}, policy: { initialDelayMs: 20, stopTimeoutMs: 300 } });
    // A process that starts a long-running child of its own, as the front starts ffmpeg.
    const parent =
      `const { spawn } = require("child_process"); const fs = require("fs"); ` +
      `const c = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }); ` +
      `fs.appendFileSync(${JSON.stringify(kids)}, c.pid + "\\n"); setInterval(() => {}, 1000)`;
    try {
      s.run("front", process.execPath, ["-e", parent]);
      const started = () => (existsSync(kids) ? readFileSync(kids, "utf8").trim().split("\n").map(Number) : []);
      await until(() => started().length === 1);
      const [first] = started();
      expect(alive(first)).toBe(true);
      process.kill(s.pids().front!, "SIGKILL");
      // Gone with its parent; the restarted parent starts its own.
      await until(() => !alive(first));
      await until(() => started().length === 2);
      const second = started()[1]!;
      expect(alive(second)).toBe(true);
      await s.stop();
      await until(() => !alive(second));
    } finally {
      await s.stop();
      for (const pid of existsSync(kids) ? readFileSync(kids, "utf8").trim().split("\n").map(Number) : [])
        if (alive(pid)) process.kill(pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
