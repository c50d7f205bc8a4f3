// Spawning onair's real processes in tests, on free loopback ports.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeNginxConf } from "../scripts/nginx-conf";
import { freePort } from "../scripts/lib/ports";

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

/** Debian's nginx with the rtmp module, configured as README says (hooks to `onair`), on free ports. */
export async function startNginxRtmp(onair: string) {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "onair-nginx-"));
  const conf = writeNginxConf({ onair, rtmpPort, httpPort, dir });
  const proc = spawn("/usr/sbin/nginx", ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], { stdio: "ignore" });
  const statUrl = `http://127.0.0.1:${httpPort}/stat`;
  const stop = () => {
    proc.kill("SIGQUIT");
    rmSync(dir, { recursive: true, force: true });
  };
  await waitFor(statUrl, 10_000, (s) => s === 200).catch((e: unknown) => {
    stop();
    throw e;
  });
  return { rtmpPort, httpPort, statUrl, stop };
}
