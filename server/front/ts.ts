// MPEG-TS over HTTP for players that ask for /live/<stream>.ts (LTStream's main-stream URL): one
// ffmpeg remux (-c copy) per stream, shared by every viewer of it, started with the first viewer
// and stopped a few seconds after the last. A viewer joins on a packet boundary; a viewer that
// does not keep up is dropped rather than buffered without bound.
import { spawn, type ChildProcess } from "node:child_process";
import type { ServerResponse } from "node:http";
import { env } from "../env";
import { log } from "../log";
import { redactUrls } from "../media/ffmpeg";

const PACKET = 188;
const MAX_BUFFERED = 4 * 1024 * 1024;
const IDLE_STOP_MS = 5000;

interface Hub {
  proc: ChildProcess;
  /** Viewers; `onFail` answers one that never got a byte when the remux ends (cannot pull). */
  viewers: Map<ServerResponse, { started: boolean; onFail: () => void }>;
  emitted: number;
  idle?: NodeJS.Timeout;
}
const hubs = new Map<string, Hub>();

function startHub(name: string, flvUrl: string): Hub {
  const proc = spawn(
    env().FFMPEG_PATH,
    [
      ...["-hide_banner", "-loglevel", "error", "-rw_timeout", "10000000", "-i", flvUrl],
      // Video and audio only: FLV's data track would hold the muxer back until it interleaves.
      ...["-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "mpegts", "-mpegts_flags", "+resend_headers", "pipe:1"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const hub: Hub = { proc, viewers: new Map(), emitted: 0 };
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-500)));
  proc.stdout.on("data", (chunk: Buffer) => {
    for (const [res, v] of hub.viewers) {
      let data = chunk;
      if (!v.started) {
        // Start on a packet boundary so the player's first byte is a sync byte.
        const skip = (PACKET - (hub.emitted % PACKET)) % PACKET;
        if (skip >= chunk.length) continue;
        data = chunk.subarray(skip);
        v.started = true;
        if (!res.headersSent)
          res.writeHead(200, {
            "content-type": "video/mp2t",
            "access-control-allow-origin": "*",
            "cache-control": "no-store",
          });
      }
      res.write(data);
      if (res.writableLength > MAX_BUFFERED) res.destroy();
    }
    hub.emitted += chunk.length;
  });
  proc.on("error", (e) => log.warn("ts remux could not start", { stream: name, error: e.message }));
  proc.on("close", (code) => {
    if (hubs.get(name) === hub) hubs.delete(name);
    // ffmpeg's message repeats the source URL: its internal signature is not for logs.
    if (code && code !== 255) log.warn("ts remux ended", { stream: name, code, err: redactUrls(err).slice(-200) });
    for (const [res, v] of hub.viewers) {
      if (res.headersSent) res.end();
      else v.onFail();
    }
    hub.viewers.clear();
  });
  hubs.set(name, hub);
  return hub;
}

/**
 * Serves the stream as MPEG-TS to `res`. `onFail` answers the viewer when no byte ever comes
 * (the stream cannot be pulled).
 */
export function serveTs(name: string, flvUrl: string, res: ServerResponse, onFail: () => void) {
  const h = hubs.get(name) ?? startHub(name, flvUrl);
  if (h.idle) clearTimeout(h.idle);
  h.idle = undefined;
  h.viewers.set(res, { started: false, onFail });
  res.on("close", () => {
    h.viewers.delete(res);
    if (h.viewers.size === 0 && !h.idle)
      h.idle = setTimeout(() => {
        if (h.viewers.size === 0) h.proc.kill("SIGTERM");
      }, IDLE_STOP_MS).unref();
  });
}
