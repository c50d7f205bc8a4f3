// Entry point of the front process (see server/front/server.ts).
import { env } from "../env";
import { log } from "../log";
import { handleShutdown, startBackground } from "../runtime";
import { createFrontServer } from "./server";
import { createApiHandler } from "../web/api";
import { endAbandonedRooms } from "../media/streams";
import { sampleOnline } from "../rooms/overview";
import { getDb } from "../db/client";
import { systemClock } from "../clock";
import { stopAllPulls } from "../media/pulls";
import { isEventsWorker, runEventsWorker } from "./events-worker";

const e = env();
if (isEventsWorker()) await runEventsWorker();
else await runFront();

async function runFront() {
  await startBackground();
  const server = createFrontServer({
    webOrigin: `http://127.0.0.1:${e.WEB_PORT}`,
    api: createApiHandler(),
    alwaysOn: e.SOURCE_ALWAYS_ON === "1",
    eventsWorker:
      e.EVENTS_WORKER === "1" ? { nice: e.EVENTS_WORKER_NICE, idleMs: e.EVENTS_WORKER_IDLE_S * 1000 } : undefined,
  });
  server.on("error", (err: NodeJS.ErrnoException) => {
    log.error(
      err.code === "EADDRINUSE"
        ? `Port ${e.PORT} on ${e.HOST} is already in use; set PORT to another port`
        : "front server error",
      { error: err.message },
    );
    process.exit(1);
  });
  server.listen(e.PORT, e.HOST, () => log.info("front listening", { host: e.HOST, port: e.PORT }));
  // Event sockets are told to go (1001) at once: they reconnect to another instance and resume.
  handleShutdown(
    "front",
    [server],
    () => stopAllPulls().then(() => undefined),
    () => server.roomEvents.close(),
  );

  // Rooms whose stream went away and did not come back within MEDIA_END_GRACE_S end (every instance
  // may run this: the UPDATE is conditional).
  const sweep = setInterval(() => {
    endAbandonedRooms(getDb(), systemClock).catch((err) =>
      log.warn("stream sweep failed", { error: (err as Error).message }),
    );
  }, 1000);
  sweep.unref();
  // The audience chart's 10-second samples: every front tries twice a bucket, one takes it.
  const sampler = setInterval(() => {
    sampleOnline(getDb(), new Date()).catch((err) =>
      log.warn("online sampling failed", { error: (err as Error).message }),
    );
  }, 5_000);
  sampler.unref();
}
