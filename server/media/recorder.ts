// Record-done, from any media server: the file becomes a recording row that plays in the browser
// (remuxed to MP4 with ffmpeg, no re-encode). Rows go processing → ready | failed.
import { existsSync, mkdirSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Clock } from "../clock";
import type { Db } from "../db/client";
import { env } from "../env";
import { errorText, log } from "../log";
import { createMediaRecording, finishMediaRecording } from "../recordings";
import { probeDurationMs, remuxToMp4 } from "./ffmpeg";
import { roomByStream } from "./streams";

export const recordingsDir = () => resolve(env().mediaDir, "recordings");

/**
 * A record file a media server reported, only when it is a regular .flv/.mp4 file whose real path
 * lies inside one of MEDIA_RECORD_DIRS (default MEDIA_DIR) and outside onair's own recordings: a
 * hook caller can never make onair remux or delete anything else.
 */
export function reportedRecordFile(path: string): string | undefined {
  if (!path || !/\.(flv|mp4)$/i.test(path)) return undefined;
  const dirs = (env().MEDIA_RECORD_DIRS ?? env().mediaDir).split(",").filter((d) => d.trim());
  try {
    const real = realpathSync(path);
    if (!statSync(real).isFile()) return undefined;
    try {
      if (real.startsWith(realpathSync(recordingsDir()) + sep)) return undefined;
    } catch {
      /* no recordings yet */
    }
    for (const d of dirs) {
      const root = realpathSync(resolve(d.trim()));
      if (real.startsWith(root + sep)) return real;
    }
  } catch {
    /* missing or unreadable: not ours */
  }
  return undefined;
}

/**
 * Remuxes a finished record file into a ready recording of the stream's room. `removeSource`: the
 * file is a media server's copy made for onair (already confined to MEDIA_RECORD_DIRS), removed
 * once remuxed.
 */
export async function recordDone(
  db: Db,
  clock: Clock,
  streamName: string,
  file: string,
  via: string,
  opts: {
    removeSource?: boolean;
    /**
     * When the recording began on onair's clock (the embedded server's packager start); else it
     * is taken as now less the file's duration: media servers report a file when it ends.
     */
    startedAt?: Date;
    /**
     * When its last frame was live on onair's clock (the embedded server's publisher leaving):
     * then it began that long before it. Preferred to `startedAt`: a packager joining a stream gets
     * the frames since the last keyframe first, so a file can begin before the packager did, and a
     * replay's chat then ran late by up to a keyframe interval (a word said after the stream ended
     * showed in its replay).
     */
    endedAt?: Date;
  } = {},
) {
  const row = await roomByStream(db, streamName);
  if (!row) throw new Error(`record_done for unknown stream ${streamName}`);
  if (!existsSync(file)) throw new Error(`record_done file not found: ${file}`);
  const { room } = row;
  const ctx = { db, clock, actor: { kind: "system" as const, appId: room.appId, via } };
  const at = clock.now();
  const name = `${room.title} ${at.toISOString().slice(0, 16).replace("T", " ")}`;
  const rec = await createMediaRecording(
    ctx,
    { room: room.id, name, type: 0, coverUrl: room.coverUrl, url: "", durationMs: 0, sizeBytes: 0 },
    { status: "processing" },
  );
  try {
    const dir = join(recordingsDir(), String(room.num));
    mkdirSync(dir, { recursive: true });
    const mp4 = join(dir, `${rec.id}.mp4`);
    await remuxToMp4(file, mp4);
    const durationMs = await probeDurationMs(mp4);
    const sizeBytes = statSync(mp4).size;
    // On onair's clock, as the chat's times are (a replay shows the chat in step with it); not the
    // file's mtime: another host's clock, and the packager's trailer is written up to its read
    // timeout after the last frame. Unknown when the duration is (ffprobe found none).
    const startedAt =
      opts.endedAt && durationMs > 0
        ? new Date(opts.endedAt.getTime() - durationMs)
        : (opts.startedAt ?? (durationMs > 0 ? new Date(at.getTime() - durationMs) : null));
    await finishMediaRecording(ctx, rec.id, { status: "ready", filePath: mp4, durationMs, sizeBytes, startedAt });
    if (opts.removeSource)
      try {
        unlinkSync(file);
      } catch (e) {
        log.warn("recorded file left in place", { file, error: errorText(e) });
      }
    else if (resolve(dirname(file)).startsWith(resolve(env().mediaDir)) && basename(file) !== basename(mp4))
      unlinkSync(file);
    log.info("recording ready", { recording: rec.id, room: room.id, durationMs, sizeBytes, via });
    return { id: rec.id, durationMs, sizeBytes };
  } catch (e) {
    await finishMediaRecording(ctx, rec.id, { status: "failed" });
    log.error("recording failed", { recording: rec.id, error: errorText(e) });
    throw e;
  }
}
