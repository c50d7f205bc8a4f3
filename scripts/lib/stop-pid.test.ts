// The supervisor stops the private MariaDB it started by the pid it spawned, and only while that pid
// is still a MariaDB of that data folder: never whatever process holds the pid now.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { isServerOf, stopSpawnedServer } from "./stop-pid";

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

describe("stopSpawnedServer", () => {
  it("knows a MariaDB of its data folder by its command line", () => {
    const dir = "/srv/onair/.data/mariadb/data";
    expect(isServerOf(["/usr/sbin/mariadbd", "--no-defaults", `--datadir=${dir}`], dir)).toBe(true);
    expect(isServerOf(["mysqld", `--datadir=${dir}`], dir)).toBe(true);
    expect(isServerOf(["/usr/sbin/mariadbd", "--datadir=/elsewhere"], dir)).toBe(false);
    expect(isServerOf(["/usr/bin/sleep", `--datadir=${dir}`], dir)).toBe(false);
    expect(isServerOf(["/usr/sbin/mariadbd-evil", `--datadir=${dir}`], dir)).toBe(false);
  });

  it("leaves alone a process that is not that server (a pid reused, or named in a file it did not write)", async () => {
    const other = spawn("sleep", ["30"]);
    children.push(other);
    await stopSpawnedServer({ pid: other.pid!, datadir: "/tmp/none" }, 500);
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
    expect(() => process.kill(other.pid!, 0)).not.toThrow();
  });

  it("returns at once for a pid that is gone", async () => {
    const gone = spawn("true");
    await new Promise((r) => gone.once("exit", r));
    const t0 = Date.now();
    await stopSpawnedServer({ pid: gone.pid!, datadir: "/tmp/none" }, 5000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
