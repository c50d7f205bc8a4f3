// Entry point of the front process (see server/front/server.ts).
import { env } from "../env";
import { log } from "../log";
import { handleShutdown, startBackground } from "../runtime";
import { createFrontServer } from "./server";

const e = env();
await startBackground();
const server = createFrontServer({ webOrigin: `http://127.0.0.1:${e.WEB_PORT}` });
server.on("error", (err: NodeJS.ErrnoException) => {
  log.error(err.code === "EADDRINUSE" ? `Port ${e.PORT} on ${e.HOST} is already in use; set PORT to another port` : "front server error", { error: err.message });
  process.exit(1);
});
server.listen(e.PORT, e.HOST, () => log.info("front listening", { host: e.HOST, port: e.PORT }));
handleShutdown("front", [server]);
