// Room-event sockets in a process of their own (EVENTS_WORKER=1, the default). The front accepts a
// WebSocket upgrade on its public port as before and hands the connection (the socket itself, over
// the IPC channel) to a child process that runs the same room events (server/front/events.ts) at a
// lower CPU priority (EVENTS_WORKER_NICE). Writing one chat message to 5,000 sockets is 5,000
// socket writes: in the front's own event loop they delayed heartbeats and token checks; in the
// child the kernel lets the hot paths go first. Nothing authoritative lives in the child either:
// state comes from MySQL, events from the bus (Redis or polling), likes go through its own presence
// buffer, flushed within a second like the front's.
//
// The child is started with the first socket (a front nobody listens to keeps one process less) and
// ends once it has held none for EVENTS_WORKER_IDLE_S (what 5,000 sockets grew in it, 100-230 MiB,
// stayed after they had gone). Sockets that come while it starts wait for it (paused, at most 10 s);
// whenever it is gone, the front serves sockets itself. A connection handed over keeps its place in
// the front's per-address cap until the child reports it closed.
import { fork, type ChildProcess } from "node:child_process";
import { IncomingMessage, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { presenceBuffer } from "../presence/buffer";
import { lowerPriority } from "../priority";
import { handleShutdown } from "../runtime";
import { revocationSet } from "../tokens/revocations";
import { createRoomEvents } from "./events";

const ROLE_ENV = "ONAIR_FRONT_ROLE";
const ROLE = "events";
/** After the child exits unexpectedly, the front serves sockets itself at least this long. */
const RESTART_AFTER_MS = 2000;
/**
 * How long upgrades wait for a starting child before the front serves them itself: a child that
 * takes longer is stuck (compiled, it is ready within a second; under tsx on a loaded machine CI saw
 * more than 3 s).
 */
const START_WAIT_MS = 10_000;
/** Upgrades that may wait for a starting child; beyond them the front serves the rest itself. */
const MAX_PENDING = 5000;

interface Pending {
  req: IncomingMessage;
  socket: Socket;
  head: Buffer;
  key: string | null;
}

/** What the front sends with a connection. */
interface Handoff {
  t: "upgrade";
  url: string;
  headers: IncomingHttpHeaders;
  /** Bytes read past the request's headers (base64). */
  head: string;
  /** The connection's place in the per-address cap (null: not counted). */
  key: string | null;
}
type FromChild = { t: "ready" } | { t: "open"; n: number } | { t: "gone"; key: string };

export const isEventsWorker = () => process.env[ROLE_ENV] === ROLE;

export interface EventsWorkerOptions {
  /** How many nice steps below the front it runs (EVENTS_WORKER_NICE). */
  nice: number;
  /** It ends after holding no socket this long (EVENTS_WORKER_IDLE_S, in ms). */
  idleMs: number;
  /** The front's entry script and node options (default: this process's own). */
  script?: string;
  execArgv?: string[];
}

export function createEventsWorker(
  opts: EventsWorkerOptions & {
    /** The front's per-address cap: a slot held for a connection now in the child, and given back. */
    hold: (key: string) => void;
    release: (key: string) => void;
    /** Serves an upgrade in the front after all (the child did not get ready in time). */
    serveHere: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  },
) {
  let child: ChildProcess | undefined;
  let ready = false;
  let open = 0;
  let closing = false;
  let notBefore = 0;
  /** When a connection was last handed over (a count of 0 from the child may predate it). */
  let lastHandoff = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  /** Ends the child once it has held nothing for idleMs (checked whenever its count says 0). */
  const retireWhenIdle = (c: ChildProcess) => {
    clearTimeout(idleTimer);
    if (open !== 0) return;
    idleTimer = setTimeout(() => {
      if (child !== c || open !== 0) return;
      if (Date.now() - lastHandoff < opts.idleMs) return retireWhenIdle(c);
      // Out of use first: the next socket starts a new child (the front serves it meanwhile).
      child = undefined;
      ready = false;
      log.info("events worker idle: stopping it", { pid: c.pid, idleS: Math.round(opts.idleMs / 1000) });
      c.kill("SIGTERM");
    }, opts.idleMs);
    idleTimer.unref();
  };
  /** Slots held per address for the current child's connections. */
  let held = new Map<string, number>();
  /** One slot of `key` in `slots` given back to the front. */
  const giveBack = (slots: Map<string, number>, key: string) => {
    const n = slots.get(key);
    if (!n) return;
    if (n > 1) slots.set(key, n - 1);
    else slots.delete(key);
    opts.release(key);
  };

  function start() {
    const c = fork(opts.script ?? process.argv[1]!, [], {
      execArgv: opts.execArgv ?? process.execArgv,
      env: { ...process.env, [ROLE_ENV]: ROLE },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      // A session of its own: where the kernel shares CPU time between sessions first (autogroup),
      // a nice value only counts within one, and the worker niced in the front's session took its
      // time from the front alone (server/priority.ts). It ends with the front all the same: it
      // stops when the IPC channel closes (handleShutdown).
      detached: true,
    });
    child = c;
    const mine = (held = new Map<string, number>());
    const lowered = lowerPriority(c.pid!, opts.nice);
    if (lowered) log.warn("events worker: could not lower its priority", { error: lowered });
    c.on("message", (m: FromChild) => {
      if (m.t === "gone") return giveBack(mine, m.key);
      // A child that was retired only gives its slots back.
      if (child !== c) return;
      if (m.t === "ready") {
        ready = true;
        flushPending(c);
      } else open = m.n;
      retireWhenIdle(c);
    });
    c.on("error", (err) => log.warn("events worker error", { error: err.message }));
    c.on("exit", (code, signal) => {
      for (const [key, n] of mine) for (let i = 0; i < n; i++) opts.release(key);
      mine.clear();
      if (child !== c) return;
      clearTimeout(idleTimer);
      child = undefined;
      ready = false;
      open = 0;
      // Gone before it was ready: what waited for it is served here.
      flushPending(undefined);
      if (closing) return;
      notBefore = Date.now() + RESTART_AFTER_MS;
      log.warn("events worker exited; the front serves event sockets until it is back", { code, signal });
    });
  }

  /** Hands one connection to a ready child. */
  function handOver(c: ChildProcess, u: Pending) {
    const { req, socket, head, key } = u;
    const msg: Handoff = {
      t: "upgrade",
      url: req.url ?? "/",
      headers: req.headers,
      head: head.toString("base64"),
      key,
    };
    if (key) {
      opts.hold(key);
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    lastHandoff = Date.now();
    retireWhenIdle(c);
    const mine = held;
    c.send(msg, socket, (err) => {
      // Sent, node has taken the connection out of this socket object without closing it: destroyed
      // here it closes for the front (its server's connection list and its per-address count
      // let go of it; the slot held above stands for it now).
      socket.destroy();
      // Not handed over: the connection ends (its client reconnects) and its slot is given back.
      if (err && key) giveBack(mine, key);
    });
  }
  /** Upgrades that came while the child was starting: handed over once it is ready, or served here. */
  let pending: Pending[] = [];
  let pendingTimer: NodeJS.Timeout | undefined;
  function flushPending(to: ChildProcess | undefined) {
    clearTimeout(pendingTimer);
    pendingTimer = undefined;
    const list = pending;
    pending = [];
    for (const u of list) {
      if (u.socket.destroyed) continue;
      if (to?.connected) handOver(to, u);
      else {
        u.socket.resume();
        opts.serveHere(u.req, u.socket, u.head);
      }
    }
  }

  return {
    /**
     * Hands an upgrade to the child, or keeps it until the child that is starting is ready (at most
     * START_WAIT_MS, MAX_PENDING of them); false when there is no child to wait for (the front serves
     * this one itself, and the child is started for the next ones).
     */
    take(req: IncomingMessage, socket: Socket, head: Buffer, key: string | null): boolean {
      if (closing) return false;
      if (!child && Date.now() >= notBefore) start();
      const c = child;
      if (!c) return false;
      if (ready && c.connected) {
        handOver(c, { req, socket, head, key });
        return true;
      }
      if (pending.length >= MAX_PENDING) return false;
      // Not read meanwhile: what the client sends waits in the kernel for whoever serves it.
      socket.pause();
      pending.push({ req, socket, head, key });
      pendingTimer ??= setTimeout(() => flushPending(undefined), START_WAIT_MS);
      return true;
    },
    /** Sockets the child holds, as it last reported (it reports every change). */
    get open() {
      return open;
    },
    /** Sockets waiting for the child to be ready (they count against the front's socket cap too). */
    get waiting() {
      return pending.length;
    },
    /** Going away: the child tells its sockets to go (1001), flushes likes and exits. */
    close() {
      closing = true;
      clearTimeout(idleTimer);
      for (const u of pending.splice(0)) u.socket.destroy();
      clearTimeout(pendingTimer);
      child?.kill("SIGTERM");
    },
  };
}

/**
 * The child's side: the room events with their own presence buffer and revocation list, fed the
 * connections the front hands over.
 */
export async function runEventsWorker() {
  // To the front, while it is there (sockets closing after it went must not throw).
  const tell = (m: FromChild) => {
    if (process.connected) process.send?.(m);
  };
  const e = env();
  const db = getDb();
  await revocationSet.poll(db);
  revocationSet.start(db, e.REVOCATION_POLL_MS);
  presenceBuffer.start(db, e.PRESENCE_FLUSH_MS);
  // The count the front's health shows, sent when it changes (once per turn of the event loop).
  let reporting = false;
  const room = createRoomEvents({
    clock: systemClock,
    buffer: presenceBuffer,
    onCount: () => {
      if (reporting) return;
      reporting = true;
      setImmediate(() => {
        reporting = false;
        tell({ t: "open", n: room.open });
      });
    },
  });
  process.on("message", (m: Handoff, socket: Socket | undefined) => {
    if (m?.t !== "upgrade" || !socket) return;
    if (m.key) {
      const key = m.key;
      socket.once("close", () => tell({ t: "gone", key }));
    }
    const req = new IncomingMessage(socket);
    req.method = "GET";
    req.url = m.url;
    req.headers = m.headers;
    const q = m.url.indexOf("?");
    room.upgrade(req, socket, Buffer.from(m.head, "base64"), new URLSearchParams(q < 0 ? "" : m.url.slice(q + 1)));
  });
  handleShutdown("events worker", [], undefined, () => {
    room.close();
  });
  tell({ t: "ready" });
  log.info("events worker ready", { pid: process.pid });
}
