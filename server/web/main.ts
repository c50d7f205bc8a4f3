// Entry point of the web process: Next (pages, next-auth) and tRPC on its node adapter, on an
// internal port behind the front process. No hot path runs here: they share no event loop with React rendering.
import http from "node:http";
import next from "next";
import { dbHealth, getDb } from "../db/client";
import { startFiguresRefresh } from "../presence/figures";
import { env } from "../env";
import { sendJson } from "../http/io";
import { errorText, log } from "../log";
import { handleShutdown, startBackground } from "../runtime";
import { createApiHandler } from "./api";
import { startMixWatcher } from "../compat/haoshitong";
import { systemClock } from "../clock";
import { onDeliveriesWritten } from "../events/outbox";
import { createWebhookWorker } from "../webhooks/worker";
import { MediaPoller } from "../media/poll";

const e = env();
const dir = new URL("../../", import.meta.url).pathname;
const app = next({ dev: false, dir, hostname: e.HOST, port: e.PORT });
await app.prepare();
const nextHandler = app.getRequestHandler();
await startBackground();

const api = createApiHandler();
const stopMixes = startMixWatcher();
// Room figures (online, likes, pv, uv) for lists: one instance a turn recomputes the rooms that
// changed. Here rather than in the front, whose event loop is the heartbeats'.
if (e.FIGURES_REFRESH_MS > 0)
  startFiguresRefresh(getDb(), e.FIGURES_REFRESH_MS, (err) =>
    log.warn("figures refresh failed; will retry", { error: errorText(err) }),
  );

// Webhook deliveries: every instance's worker claims due rows from the outbox (one sender per
// row); a change this process commits wakes it at once, others' within WEBHOOK_POLL_MS.
const webhooks = e.WEBHOOK_CONCURRENCY > 0 ? createWebhookWorker(getDb(), systemClock) : undefined;
if (webhooks) {
  webhooks.start(e.WEBHOOK_POLL_MS);
  onDeliveriesWritten(() => webhooks.nudge());
}

// SRS's API and nginx-rtmp's /stat (when configured): health, reconciliation and thumbnails of
// their streams, one instance a turn.
const poller = new MediaPoller(getDb(), systemClock);
poller.start();

const server = http.createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0]!;
  if (api(req, res, path)) return;
  if (path === "/api/health") {
    void dbHealth().then((db) => sendJson(res, db.ok ? 200 : 503, { process: "web", db }));
    return;
  }
  void nextHandler(req, res);
});
server.keepAliveTimeout = 65_000;
server.on("error", (err: NodeJS.ErrnoException) => {
  log.error(
    err.code === "EADDRINUSE" ? `Internal web port ${e.WEB_PORT} is in use; set WEB_PORT` : "web server error",
    { error: err.message },
  );
  process.exit(1);
});
server.listen(e.WEB_PORT, "127.0.0.1", () => log.info("web listening", { port: e.WEB_PORT }));
handleShutdown("web", [server], async () => {
  poller.stop();
  stopMixes();
  await webhooks?.stop();
});
