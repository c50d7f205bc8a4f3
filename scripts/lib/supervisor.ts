// Keeps onair's processes running: a process that exits without being asked to is started again
// after a delay that doubles with each consecutive crash (0.5 s, 1 s, 2 s … at most 10 s, back to
// 0.5 s once it has run healthily for 30 s). A process that crashes more than 5 times within 60 s
// is not restarted: the supervisor gives up (and `npm start` stops everything and exits non-zero).
// Each process leads a process group of its own, and whatever is left of that group when the
// process ends (ffmpeg pulls and remuxes, the front's events worker) is killed with it: a process
// killed without a chance to stop its children would otherwise leave them running, and its
// successor would start them again beside them.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each consecutive one. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** More crashes than this within windowMs: give up. */
  maxCrashes: number;
  windowMs: number;
  /** A process that ran this long before it crashed is restarted after initialDelayMs again. */
  healthyAfterMs: number;
  /** How long a process may take to stop after SIGTERM before it is killed. */
  stopTimeoutMs: number;
}

export const DEFAULT_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxCrashes: 5,
  windowMs: 60_000,
  healthyAfterMs: 30_000,
  stopTimeoutMs: 20_000,
};

interface Proc {
  name: string;
  command: string;
  args: string[];
  options: SpawnOptions;
  child?: ChildProcess;
  startedAt: number;
  /** Restarts since the process last ran healthily (drives the delay). */
  consecutive: number;
  crashes: number[];
  timer?: NodeJS.Timeout;
}

/** Kills what is left of the process group `pgid` (its leader gone): nothing, usually. */
function killGroup(pgid: number) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // no such group left (ESRCH), or not ours to signal
  }
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

export class Supervisor {
  private readonly procs: Proc[] = [];
  private readonly policy: RestartPolicy;
  private stopping = false;

  constructor(
    private readonly o: {
      /** Called once when a process crashes too often; the supervisor restarts nothing afterwards. */
      onGiveUp: (reason: string) => void;
      policy?: Partial<RestartPolicy>;
      log?: (line: string) => void;
    },
  ) {
    this.policy = { ...DEFAULT_POLICY, ...o.policy };
  }

  private log(line: string) {
    (this.o.log ?? console.error)(line);
  }

  /** Starts `command` under supervision as process `name`. */
  run(name: string, command: string, args: string[], options: SpawnOptions = {}): void {
    if (this.stopping) return;
    const p: Proc = { name, command, args, options, startedAt: 0, consecutive: 0, crashes: [] };
    this.procs.push(p);
    this.spawn(p);
  }

  /** The current pid of each process (undefined while it is being restarted). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.procs.map((p) => [p.name, p.child?.pid]));
  }

  get isStopping() {
    return this.stopping;
  }

  private spawn(p: Proc) {
    p.startedAt = Date.now();
    const child = spawn(p.command, p.args, { ...p.options, detached: true });
    p.child = child;
    let done = false;
    const ended = (how: string) => {
      if (done) return;
      done = true;
      if (child.pid !== undefined) killGroup(child.pid);
      this.exited(p, child, how);
    };
    child.on("exit", (code, signal) => ended(signal ?? `exit code ${code}`));
    // A process that could not be started at all (no 'exit' follows) counts as a crash.
    child.on("error", (err) => {
      if (child.pid === undefined) ended(err.message);
    });
  }

  private exited(p: Proc, child: ChildProcess, how: string) {
    if (p.child !== child) return;
    p.child = undefined;
    if (this.stopping) return;
    const now = Date.now();
    if (now - p.startedAt >= this.policy.healthyAfterMs) p.consecutive = 0;
    p.crashes = p.crashes.filter((t) => now - t < this.policy.windowMs);
    p.crashes.push(now);
    if (p.crashes.length > this.policy.maxCrashes) {
      const reason = `the ${p.name} process crashed ${p.crashes.length} times within ${seconds(this.policy.windowMs)}`;
      this.log(`[onair] ${p.name} process exited (${how}); ${reason}: not restarting it again`);
      this.stopping = true;
      this.o.onGiveUp(reason);
      return;
    }
    p.consecutive += 1;
    const delay = Math.min(this.policy.initialDelayMs * 2 ** (p.consecutive - 1), this.policy.maxDelayMs);
    this.log(`[onair] ${p.name} process exited (${how}); restarting in ${seconds(delay)} (restart ${p.consecutive})`);
    p.timer = setTimeout(() => {
      p.timer = undefined;
      if (!this.stopping) this.spawn(p);
    }, delay);
  }

  /**
   * Stops every process, the last started first, each with SIGTERM and then, after stopTimeoutMs,
   * SIGKILL; nothing is restarted any more.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.procs) clearTimeout(p.timer);
    for (const p of [...this.procs].reverse()) {
      const c = p.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill("SIGKILL"), this.policy.stopTimeoutMs);
        c.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill("SIGTERM");
      });
    }
  }
}
