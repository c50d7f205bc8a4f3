// A real Redis for tests of events between instances: Debian's redis-server (installed when missing
// and root, as MariaDB and ffmpeg are), on a free loopback port, nothing persisted.
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { ensurePackages, findBinary } from "../scripts/lib/system";
import { exited, freePort } from "./process";

export async function startRedis() {
  ensurePackages("redis-server (events between instances)", ["redis-server"], () => !!findBinary(["redis-server"]));
  const port = await freePort();
  const child = spawn(
    findBinary(["redis-server"])!,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => (s.end(), r(true)));
      s.on("error", () => r(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("redis-server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited(child);
      }
    },
  };
}
