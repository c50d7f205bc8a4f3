// Spawning onair's real processes in tests, on free loopback ports.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

export const repoRoot = resolve(new URL("..", import.meta.url).pathname);

export { freePort } from "../scripts/lib/ports";

export function spawnTs(entry: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return { child, output: () => output };
}

export async function waitFor(url: string, ms = 60_000, ok = (s: number) => s < 500) {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (ok(r.status)) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${ms} ms (${last})`);
}

export function exited(child: ChildProcess): Promise<number | null> {
  // Killed by a signal, a child has no exit code (null) but a signalCode: it has exited all the same.
  return new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.once("exit", (c) => r(c)),
  );
}
