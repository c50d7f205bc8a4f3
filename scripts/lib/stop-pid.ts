// Stops a server by the pid in its pid file and waits for it to exit: how the supervisor stops the
// private MariaDB it started (SIGTERM is MariaDB's normal shutdown), without loading a MySQL client.
import { existsSync, readFileSync } from "node:fs";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another account.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Sends SIGTERM to the pid `pidFile` names and waits up to `waitMs` for it to exit. Never throws. */
export async function stopByPidFile(pidFile: string, waitMs = 60_000): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + waitMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
