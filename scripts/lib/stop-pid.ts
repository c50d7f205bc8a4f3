// Stops the private MariaDB a start started, without a MySQL client (the supervisor never loads
// one): SIGTERM, MariaDB's normal shutdown, to the pid it was spawned with, once its command line
// shows it is still that server (a mariadbd of that data folder), then waits for it to exit. The
// pid is never read from the server's pid file: that folder belongs to the database account, and
// root must not signal whatever it names.
import { readdirSync, readFileSync } from "node:fs";

/** The process's command line, or undefined when it is gone. */
function commandOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/**
 * Whether the process has exited: gone, or a zombie nobody reaps (its parent, the provisioning
 * step, has exited, and PID 1 may not reap). A zombie leader whose other threads still run (a
 * server's main thread ends first while it shuts down) has not exited.
 */
function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z") && readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** Whether `cmd` is a MariaDB/MySQL server started on `datadir`. */
export function isServerOf(cmd: string[], datadir: string) {
  return /(^|\/)(mariadbd|mysqld)$/.test(cmd[0] ?? "") && cmd.includes(`--datadir=${datadir}`);
}

/** Stops the server spawned as `pid` on `datadir` and waits up to `waitMs` for it to exit. Never throws. */
export async function stopSpawnedServer(spawned: { pid: number; datadir: string }, waitMs = 60_000): Promise<void> {
  const { pid, datadir } = spawned;
  const cmd = Number.isInteger(pid) && pid > 1 ? commandOf(pid) : undefined;
  if (!cmd || !isServerOf(cmd, datadir)) return; // gone, or the pid is another process's now
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + waitMs;
  while (!exited(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
