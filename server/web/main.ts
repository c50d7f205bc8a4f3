// Entry point of the web process: Next (pages, next-auth) and tRPC on its node adapter, on an
// internal port behind the front process. No hot path runs here: they share no event loop with React rendering.
import http from "node:http";
import next from "next";
import { dbHealth } from "../db/client";
import { env } from "../env";
import { sendJson } from "../http/io";
import { log } from "../log";
import { handleShutdown, startBackground } from "../runtime";
import { createTrpcHandler } from "./trpc";
import { createAuiHandler } from "../compat/aui";
import { createSxbHandler } from "../compat/sxb";
import { createLtHandler } from "../compat/ltstream";
import { createPolyvHandler } from "../compat/polyv";
import { createHaoshitongHandler, startMixWatcher } from "../compat/haoshitong";
import { OPENAPI } from "../compat/openapi";

const e = env();
const dir = new URL("../../", import.meta.url).pathname;
const app = next({ dev: false, dir, hostname: e.HOST, port: e.PORT });
await app.prepare();
const nextHandler = app.getRequestHandler();
await startBackground();

const trpc = createTrpcHandler();

const aui = createAuiHandler();
const sxb = createSxbHandler();
const lt = createLtHandler();
const polyv = createPolyvHandler();
const hst = createHaoshitongHandler();
const stopMixes = startMixWatcher();

const server = http.createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0]!;
  if (path.startsWith("/api/trpc/")) return void trpc(req, res);
  if (aui(req, res) || sxb(req, res) || lt(req, res) || polyv(req, res) || hst(req, res)) return;
  const spec = /^\/api\/openapi\/([a-z]+)\.json$/.exec(path);
  if (spec) {
    const d = OPENAPI[spec[1]!];
    return void sendJson(res, d ? 200 : 404, d ?? { error: { code: "NOT_FOUND", message: "No such API description" } });
  }
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
handleShutdown("web", [server], () => Promise.resolve(stopMixes()));
