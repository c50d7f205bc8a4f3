// What every long-running onair process runs beside its server: the revocation mirror, the
// presence flusher and a sweeper of expired rows; and the graceful stop for SIGTERM/SIGINT.
import type { Server } from "node:http";
import { pruneSessions } from "./accounts";
import { closeDb, getDb } from "./db/client";
import { env } from "./env";
import { errorText, log, rateLimitedLog } from "./log";
import { pruneLimits } from "./limits";
import { pruneMediaNodes } from "./media/nodes";
import { presenceBuffer } from "./presence/buffer";
import { pruneRevocations, revocationSet } from "./tokens/revocations";
import { closeBus } from "./events/bus";
import { pruneRoomEvents } from "./events/hub";
import { pruneWebhookDeliveries } from "./webhooks/worker";
import { foldEndedHealth } from "./media/health";
import { startIdleGc } from "./idle-gc";

let sweeper: NodeJS.Timeout | undefined;

export async function startBackground() {
  const db = getDb();
  await revocationSet.poll(db);
  revocationSet.start(db, env().REVOCATION_POLL_MS);
  presenceBuffer.start(db, env().PRESENCE_FLUSH_MS);
  sweeper = setInterval(() => {
    const now = new Date();
    Promise.all([
      pruneRevocations(db, now),
      pruneSessions(db, now),
      pruneLimits(db, now),
      pruneMediaNodes(db, now),
      pruneRoomEvents(db, now),
      pruneWebhookDeliveries(db, now),
      foldEndedHealth(db),
    ]).catch((e) => log.warn("sweep failed", { error: errorText(e) }));
  }, 10 * 60_000);
  sweeper.unref();
  startIdleGc(env().IDLE_GC_GROWTH_MIB);
}

/**
 * A promise rejected with nobody to handle it is a bug in one request's or one timer's path: it is
 * logged (at most 5 lines a second, a flood counted), and the process goes on. Node's default
 * ends the process, which drops every connection on it — all the viewers' sockets and heartbeats
 * on a front — for one request (as a 随心播 command name did until `feb79f8`). Registered once.
 */
export function logStrayRejections(name: string) {
  if (strayRejections) return;
  const line = rateLimitedLog("error", 5, 20);
  strayRejections = (e: unknown) => {
    line(`${name}: a promise failed with nobody to handle it`, { error: errorText(e) });
  };
  process.on("unhandledRejection", strayRejections);
}
let strayRejections: ((e: unknown) => void) | undefined;

/**
 * Stop accepting, let in-flight requests finish (≤ 10 s), flush buffered heartbeats, close the
 * pool. Stray rejections are logged from here on (logStrayRejections).
 */
export function handleShutdown(
  name: string,
  servers: Server[],
  extra?: () => Promise<void>,
  /** Runs first: long-lived connections the servers no longer track (event sockets) are told to go. */
  first?: () => void,
) {
  logStrayRejections(name);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${name} stopping`, { signal });
    const force = setTimeout(() => {
      log.error(`${name} did not stop within 15 s; exiting`);
      process.exit(1);
    }, 15_000);
    force.unref();
    first?.();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
            setTimeout(() => {
              s.closeAllConnections();
              resolve();
            }, 10_000).unref();
          }),
      ),
    );
    try {
      await extra?.();
      revocationSet.stop();
      if (sweeper) clearInterval(sweeper);
      await presenceBuffer.stop(getDb());
      await closeBus();
      await closeDb();
      log.info(`${name} stopped`, { flushedBeats: presenceBuffer.flushedBeats });
      process.exit(0);
    } catch (e) {
      log.error(`${name} failed to stop cleanly`, { error: errorText(e) });
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Started with an IPC channel (by scripts/start.ts, or the events worker by its front): stop when
  // the parent is gone.
  if (process.send) process.on("disconnect", () => void stop("parent exited"));
}
