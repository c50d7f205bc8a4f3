// Password hashing on threads of their own at a lower CPU priority. A sign-in's argon2id costs about
// 30 ms of CPU; a burst of them (or an attacker trying passwords) ran on libuv's thread pool at the
// same priority as the event loop beside it, and on a 2-core machine took the CPU the heartbeats
// and plays needed (heartbeat p99 beside a login burst measured 19-28 ms against a target of 20).
// Here each hash runs synchronously on a worker thread that lowers its own priority (Linux nices
// threads one by one: setpriority() on a thread id), so the kernel runs the event loop first when
// the cores are busy and the hashes when they are not. The threads start with the first sign-in and
// end after HASH_THREAD_IDLE_MS without one (each holds a V8 isolate).
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { log } from "../log";

/** How far below the process a hashing thread runs (nice steps). */
export const HASH_THREAD_NICE = 10;
const HASH_THREAD_IDLE_MS = 30_000;

export type HashJob =
  | { op: "argon2-hash"; password: string; options: Record<string, number> }
  | { op: "argon2-verify"; stored: string; password: string }
  | { op: "scrypt"; password: string; salt: Uint8Array; len: number; options: Record<string, number> };

// The thread's code, evaluated (a file beside this one would not survive the bundlers of the front
// and of Next). The native module is looked up from the process's entry script (server/.build/*.mjs,
// next, vitest: all inside the project), then from the working directory.
const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createRequire } = require("node:module");
const { readlinkSync } = require("node:fs");
const os = require("node:os");
const { scryptSync } = require("node:crypto");
let argon2;
try {
  argon2 = createRequire(workerData.from)("@node-rs/argon2");
} catch {
  argon2 = require("@node-rs/argon2");
}
let lowered = null;
try {
  const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  os.setPriority(tid, Math.min(19, os.getPriority(tid) + ${HASH_THREAD_NICE}));
  lowered = os.getPriority(tid);
} catch (err) {
  lowered = "not lowered: " + err.message;
}
parentPort.postMessage({ ready: true, nice: lowered });
parentPort.on("message", (job) => {
  try {
    let value;
    if (job.op === "argon2-hash") value = argon2.hashSync(job.password, job.options);
    else if (job.op === "argon2-verify") {
      try {
        value = argon2.verifySync(job.stored, job.password);
      } catch {
        value = false;
      }
    } else if (job.op === "scrypt") value = scryptSync(job.password, job.salt, job.len, job.options);
    else throw new Error("unknown job");
    parentPort.postMessage({ ok: true, value });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message) });
  }
});
`;

interface HashThread {
  worker: Worker;
  busy: boolean;
  /** The nice value the thread runs at (a number), or why it could not be lowered. */
  nice: Promise<number | string>;
  idle?: NodeJS.Timeout;
}
const threads: HashThread[] = [];

function start(): HashThread {
  const from = process.argv[1] ? resolve(process.argv[1]) : join(process.cwd(), "index.js");
  const worker = new Worker(SOURCE, { eval: true, workerData: { from } });
  worker.unref();
  let ready!: (n: number | string) => void;
  const t: HashThread = { worker, busy: false, nice: new Promise((r) => (ready = r)) };
  worker.once("message", (m: { nice: number | string }) => {
    ready(m.nice);
    if (typeof m.nice === "string") log.warn("password hashing thread runs at normal priority", { reason: m.nice });
  });
  worker.once("exit", () => {
    const i = threads.indexOf(t);
    if (i >= 0) threads.splice(i, 1);
    ready("exited");
  });
  threads.push(t);
  return t;
}

/**
 * Runs one hashing job on an idle hashing thread (one is started when none is idle). The caller
 * bounds how many run at once (passwords.ts: PASSWORD_HASH_CONCURRENCY).
 */
export function runHashJob<T>(job: HashJob): Promise<T> {
  const t = threads.find((x) => !x.busy) ?? start();
  t.busy = true;
  clearTimeout(t.idle);
  return new Promise<T>((resolve, reject) => {
    const { worker } = t;
    const onMessage = (m: { ready?: true; ok?: boolean; value?: T; error?: string }) => {
      if (m.ready) return;
      done();
      if (m.ok) resolve(m.value as T);
      else reject(new Error(`password hashing failed: ${m.error}`));
    };
    const onError = (err: Error) => (done(), reject(err));
    const onExit = (code: number) => (done(), reject(new Error(`password hashing thread exited (${code})`)));
    const done = () => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      t.busy = false;
      t.idle = setTimeout(() => {
        // Out of the pool first: no job may reach a thread that is ending.
        const i = threads.indexOf(t);
        if (i >= 0) threads.splice(i, 1);
        void worker.terminate();
      }, HASH_THREAD_IDLE_MS).unref();
    };
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
    worker.postMessage(job);
  });
}

/** The nice values of the running hashing threads (for tests and diagnostics). */
export const hashThreadNices = () => Promise.all(threads.map((t) => t.nice));
