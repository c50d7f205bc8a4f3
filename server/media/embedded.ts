// The embedded media server for the default start: node-media-server 4.4 for RTMP ingest and
// HTTP-FLV, ffmpeg (-c copy) packaging each live stream to HLS and, for rooms that record, to a
// file that becomes a recording. Publish and play decisions go through the same domain code as
// SRS and nginx-rtmp hooks. NMS runs its `prePublish`/`prePlay` listeners synchronously before its
// own `sign` check and ignores their return value, so we decide there and express the decision by
// setting the session's `sign` to a valid internal signature or clearing it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import NodeMediaServer, { type NmsSession } from "node-media-server";
import Context from "node-media-server/src/core/context.js";
import nmsLogger from "node-media-server/src/core/logger.js";
import { systemClock, type Clock } from "../clock";
import type { Db } from "../db/client";
import { env } from "../env";
import { errorText, log } from "../log";
import { nmsInternalSecret, parseStreamPath, publishKeyVersion } from "./keys";
import { recordDone } from "./recorder";
import { redactUrls } from "./ffmpeg";
import { nms as nmsSign } from "./signers";
import { applyMediaEvent, authorizePlayToken, publishRefused, type MediaEvent } from "./hooks";
import { refusalReason } from "./refusals";
import { streamStarted, streamStopped } from "./streams";
import { StreamProbe } from "./stream-probe";
import { Thumbnailer } from "./thumbnails";
import {
  nodeClient,
  nodePrefix,
  onAnotherLiveNode,
  ownOrigins,
  removeNode,
  renewNode,
  stopStreamsOfLostNodes,
} from "./nodes";
import { eq, inArray } from "drizzle-orm";
import { apps, rooms } from "../db/schema";
import { hasVendorSignature } from "./urls";
import { mainOfSubStream } from "../sources";

export const hlsDir = () => resolve(env().mediaDir, "hls");

async function assertPortFree(port: number, host: string, setting: string) {
  await new Promise<void>((res, rej) => {
    const s = createServer();
    s.once("error", (e: NodeJS.ErrnoException) =>
      rej(
        new Error(
          e.code === "EADDRINUSE"
            ? `Port ${port} is already in use; set ${setting} to a free port`
            : `Cannot listen on ${host}:${port}: ${e.message}`,
        ),
      ),
    );
    s.listen(port, host, () => s.close(() => res()));
  });
}

interface Packager {
  proc: ChildProcess;
  recordFile?: string;
  done: Promise<void>;
  /** When its publisher left (onair's clock): the recording's last frame. */
  endedAt?: Date;
}

export class EmbeddedMedia {
  private server?: NodeMediaServer;
  private packagers = new Map<string, Packager>();
  private timer?: NodeJS.Timeout;
  private healthTimer?: NodeJS.Timeout;
  /** Health readers of this node's live streams (server/media/stream-probe.ts). */
  private probes = new Map<string, StreamProbe>();
  private thumbnails: Thumbnailer;
  /** This node's id in media_nodes and in its streams' client ids (a new one each start). */
  readonly nodeId = randomUUID();
  constructor(
    private db: Db,
    private clock: Clock = systemClock,
  ) {
    this.thumbnails = new Thumbnailer(db, clock, (name) => Promise.resolve(this.internalUrl("rtmp", name)));
  }

  /** A loopback URL of one of this node's streams, signed with onair's internal secret. */
  private internalUrl(kind: "rtmp" | "flv", name: string) {
    const e = env();
    const path = `/live/${name}`;
    return kind === "rtmp"
      ? `rtmp://127.0.0.1:${e.MEDIA_RTMP_PORT}${path}?sign=${this.internalSign(path)}`
      : `http://127.0.0.1:${e.mediaHttpPort}${path}.flv?sign=${this.internalSign(path)}`;
  }

  private internalSign(path: string) {
    return nmsSign.sign(nmsInternalSecret(), path, Math.floor(Date.now() / 1000) + 3600);
  }

  async start() {
    const e = env();
    await assertPortFree(e.MEDIA_RTMP_PORT, e.HOST, "MEDIA_RTMP_PORT");
    await assertPortFree(e.mediaHttpPort, e.HOST, "MEDIA_HTTP_PORT");
    mkdirSync(hlsDir(), { recursive: true });
    this.server = new NodeMediaServer({
      bind: e.HOST,
      rtmp: { port: e.MEDIA_RTMP_PORT },
      http: { port: e.mediaHttpPort },
      auth: { play: true, publish: true, secret: nmsInternalSecret() },
      store: { path: resolve(e.mediaDir, "nms-store") },
      webadmin: { enable: false },
    });
    nmsLogger.level = e.LOG_LEVEL === "debug" ? "debug" : "warn";
    this.server.on("prePublish", (s) => this.onPrePublish(s));
    this.server.on("prePlay", (s) => this.onPrePlay(s));
    await this.server.run();
    await renewNode(this.db, { id: this.nodeId, ...ownOrigins() }, this.clock.now());
    this.timer = setInterval(() => void this.reconcile(), Math.min(5000, (e.MEDIA_NODE_LEASE_S * 1000) / 3));
    this.timer.unref();
    this.healthTimer = setInterval(() => void this.sampleHealth(), e.MEDIA_HEALTH_SAMPLE_S * 1000);
    this.healthTimer.unref();
    log.info("media server listening", { rtmp: e.MEDIA_RTMP_PORT, httpFlv: e.mediaHttpPort });
  }

  /** Sync: the publish key's signature; then async: room, key version, app, status — or the session is closed. */
  private onPrePublish(s: NmsSession) {
    const p = parseStreamPath(s.streamPath);
    const broadcast = Context.broadcasts.get(s.streamPath);
    const busy = !!broadcast?.publisher && !broadcast._publishGraceTimer;
    const keyOk = !!p && p.app === "live" && publishKeyVersion(p.name, s.streamQuery.key) !== undefined;
    // Vendor schemes (txSecret, auth_key, sign) need the app's key: decided asynchronously below.
    const vendor = !!p && p.app === "live" && !s.streamQuery.key && hasVendorSignature(s.streamQuery);
    if (!p || busy || !(keyOk || vendor)) {
      log.warn("publish refused", { stream: s.streamPath, reason: busy ? "already publishing" : "bad publish key" });
      s.streamQuery.sign = "";
      if (p?.app === "live") {
        const refusal = { stream: p.name, reason: busy ? "busy" : "bad_key", via: "embedded", addr: s.ip } as const;
        void publishRefused(this.db, this.clock, refusal).catch(() => undefined);
      }
      return;
    }
    const query = { ...s.streamQuery };
    s.streamQuery.sign = this.internalSign(s.streamPath);
    // A room's sub stream (a pulled source, server/media/pulls.ts): its key is the proof; it changes no room.
    if (keyOk && mainOfSubStream(p.name)) return;
    const client = nodeClient(this.nodeId, s.id);
    streamStarted(this.db, this.clock, p.name, client, {
      query,
      via: "embedded",
      // This node has no publisher of it (checked above); another instance's node may, while its lease holds.
      stillOn: (current) => onAnotherLiveNode(this.db, current, this.nodeId, this.clock.now()),
    })
      .then((room) => {
        this.startPackager(p.name, room.record);
        s.socket?.once("close", () => void this.onPublisherGone(p.name, client));
      })
      .catch((err) => {
        log.warn("publish refused", { stream: s.streamPath, reason: (err as Error).message });
        s.close();
        const refusal = { stream: p.name, reason: refusalReason(err), via: "embedded", addr: s.ip };
        void publishRefused(this.db, this.clock, refusal, err).catch(() => undefined);
      });
  }

  private async onPublisherGone(name: string, client: string) {
    log.info("publisher gone", { stream: name, client });
    const packager = this.packagers.get(name);
    if (packager) packager.endedAt = this.clock.now();
    this.probes.get(name)?.close();
    this.probes.delete(name);
    await streamStopped(this.db, this.clock, name, client, "embedded").catch((e) =>
      log.error("stream stop failed", { stream: name, error: errorText(e) }),
    );
    await this.stopPackager(name);
  }

  /** RTMP pulls carry ?token=; internal pulls (HLS packager, the front's FLV proxy) carry onair's own sign. */
  private onPrePlay(s: NmsSession) {
    const token = s.streamQuery.token;
    if (token === undefined) return; // NMS checks `sign` itself, with the internal secret
    const p = parseStreamPath(s.streamPath);
    try {
      if (!p) throw new Error("bad path");
      authorizePlayToken(token, p.name, this.clock.now());
      s.streamQuery.sign = this.internalSign(s.streamPath);
    } catch (e) {
      log.info("play refused", { stream: s.streamPath, reason: (e as Error).message });
      s.streamQuery.sign = "";
    }
  }

  private startPackager(name: string, record: boolean) {
    const e = env();
    if (this.packagers.has(name)) return;
    const dir = join(hlsDir(), name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const path = `/live/${name}`;
    const input = `rtmp://127.0.0.1:${e.MEDIA_RTMP_PORT}${path}?sign=${this.internalSign(path)}`;
    const args = [
      "-hide_banner",
      "-loglevel",
      "error",
      "-rw_timeout",
      "15000000",
      "-i",
      input,
      "-map",
      "0",
      "-c",
      "copy",
      "-f",
      "hls",
      "-hls_time",
      String(e.MEDIA_HLS_SEGMENT_S),
      "-hls_list_size",
      "6",
      "-hls_flags",
      "delete_segments+independent_segments",
      "-hls_segment_filename",
      join(dir, "seg_%05d.ts"),
      join(dir, "index.m3u8"),
    ];
    let recordFile: string | undefined;
    // The recording's start on onair's clock, should its end not be known: its chat replays in step with it.
    const startedAt = this.clock.now();
    if (record) {
      const recDir = resolve(e.mediaDir, "incoming");
      mkdirSync(recDir, { recursive: true });
      recordFile = join(recDir, `${name}-${Date.now()}.flv`);
      args.push("-map", "0", "-c", "copy", "-flush_packets", "1", "-f", "flv", recordFile);
    }
    const proc = spawn(e.FFMPEG_PATH, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    proc.stderr.on("data", (d) => (err = (err + d).slice(-2000)));
    const done = new Promise<void>((res) => {
      proc.on("error", (x) => {
        log.error("ffmpeg could not start", { error: x.message });
        res();
      });
      proc.on("close", (code) => {
        const endedAt = this.packagers.get(name)?.endedAt;
        this.packagers.delete(name);
        if (code && code !== 255) log.warn("packager exited", { stream: name, code, err: redactUrls(err).slice(-300) });
        if (recordFile) {
          recordDone(this.db, this.clock, name, recordFile, "embedded", { startedAt, endedAt })
            .catch((x) => log.error("recording failed", { stream: name, error: (x as Error).message }))
            .finally(res);
        } else res();
      });
    });
    this.packagers.set(name, { proc, recordFile, done });
  }

  /** Asks ffmpeg to finish (so the recording gets its trailer) and waits for the recording row. */
  private async stopPackager(name: string) {
    const p = this.packagers.get(name);
    if (!p) return;
    // ffmpeg treats the first SIGTERM as "finish up" and only a second one interrupts its blocked
    // read of the now silent input; it then writes trailers. (Not SIGINT: shells start background
    // jobs with SIGINT ignored, and children inherit that.)
    p.proc.kill("SIGTERM");
    setTimeout(() => p.proc.exitCode === null && p.proc.kill("SIGTERM"), 300).unref();
    const kill = setTimeout(() => p.proc.kill("SIGKILL"), 10_000);
    await p.done;
    clearTimeout(kill);
  }

  /** This node's streams with a publisher on now (stream name → client id). */
  private publishing() {
    const publishing = new Map<string, string>();
    for (const [path, b] of Context.broadcasts) {
      const p = parseStreamPath(path);
      if (p && b.publisher && !b._publishGraceTimer && !mainOfSubStream(p.name))
        publishing.set(p.name, nodeClient(this.nodeId, b.publisher.id));
    }
    return publishing;
  }

  /**
   * A health reading of each stream published here, read from the stream itself (a probe per
   * stream, opened on its first tick), and thumbnails of those due. Only this node has these streams,
   * so no other instance reads them.
   */
  private async sampleHealth() {
    const live = this.publishing();
    for (const [name, probe] of this.probes)
      if (!live.has(name) || probe.closed) {
        probe.close();
        this.probes.delete(name);
      }
    for (const name of live.keys()) {
      const probe = this.probes.get(name);
      if (!probe) {
        this.probes.set(name, new StreamProbe(this.internalUrl("flv", name)));
        continue;
      }
      const r = probe.take();
      if (!r) continue;
      const reading = { ...r, uptimeS: null, droppedFrames: null };
      await applyMediaEvent(this.db, { kind: "health", stream: name, via: "embedded", reading }, this.clock)?.catch(
        (e: unknown) => log.warn("health reading not stored", { stream: name, error: errorText(e) }),
      );
    }
    await this.thumbnails.tick([...live.keys()]).catch((e) => log.warn("thumbnails failed", { error: errorText(e) }));
  }

  /** Converge with what is really publishing here (missed or duplicated events). */
  private async reconcile() {
    const publishing = this.publishing();
    const listedAt = this.clock.now();
    await this.dropRevokedPublishers().catch((e) => log.warn("publisher check failed", { error: errorText(e) }));
    // Only this node's streams: another instance's node reconciles its own.
    await renewNode(this.db, { id: this.nodeId, ...ownOrigins() }, this.clock.now()).catch((e) =>
      log.warn("media node lease renewal failed", { error: errorText(e) }),
    );
    const listed: MediaEvent = {
      kind: "listed",
      via: "embedded",
      prefix: nodePrefix(this.nodeId),
      streams: publishing,
      at: listedAt,
    };
    await Promise.resolve(applyMediaEvent(this.db, listed, this.clock)).catch((e) =>
      log.warn("reconcile failed", { error: errorText(e) }),
    );
    await stopStreamsOfLostNodes(this.db, this.clock).catch((e) =>
      log.warn("lost-node check failed", { error: errorText(e) }),
    );
  }

  /**
   * Revocation reaches publishers already on air: a push whose key was rotated away, into a room
   * that has ended or an app that was disabled, is disconnected (checked every reconcile tick).
   */
  private async dropRevokedPublishers() {
    const sessions = new Map<string, { streamQuery?: Record<string, string | undefined>; close(): void }>();
    for (const [path, b] of Context.broadcasts) {
      const p = parseStreamPath(path);
      if (p && b.publisher && !b._publishGraceTimer) sessions.set(p.name, b.publisher);
    }
    if (!sessions.size) return;
    const rows = await this.db
      .select({
        streamName: rooms.streamName,
        keyVersion: rooms.keyVersion,
        status: rooms.status,
        enabled: apps.enabled,
      })
      .from(rooms)
      .innerJoin(apps, eq(apps.id, rooms.appId))
      .where(inArray(rooms.streamName, [...sessions.keys()]));
    for (const row of rows) {
      const session = sessions.get(row.streamName)!;
      const key = session.streamQuery?.key;
      const version = key ? publishKeyVersion(row.streamName, key) : undefined;
      const reason = !row.enabled
        ? "app disabled"
        : row.status === "ended"
          ? "room ended"
          : key && version !== row.keyVersion
            ? "publish key rotated"
            : undefined;
      if (!reason) continue;
      log.info("publisher disconnected", { stream: row.streamName, reason });
      session.close();
    }
  }

  async stop() {
    await removeNode(this.db, this.nodeId).catch(() => undefined);
    if (this.timer) clearInterval(this.timer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    for (const probe of this.probes.values()) probe.close();
    this.probes.clear();
    await Promise.all([...this.packagers.keys()].map((n) => this.stopPackager(n)));
    await this.server?.stop();
  }
}
