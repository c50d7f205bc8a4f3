// Entry point of the embedded media process (its own node process, started by `npm start`).
import { getDb } from "../db/client";
import { handleShutdown, startBackground } from "../runtime";
import { log } from "../log";
import { EmbeddedMedia } from "./embedded";

await startBackground();
const media = new EmbeddedMedia(getDb());
try {
  await media.start();
} catch (e) {
  log.error((e as Error).message);
  process.exit(1);
}
handleShutdown("media", [], () => media.stop());
