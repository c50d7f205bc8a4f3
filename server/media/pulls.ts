// Stream-source pulls: one ffmpeg per pulled source reads the source URL and publishes it into the
// room's stream on the local RTMP server (copy when H.264/AAC, else transcode), with the room's own
// publish key, so the room follows the pull exactly as it follows a push (live; paused on loss;
// ended after the grace). On demand: the first play starts it, the last viewer leaving stops it
// SOURCE_IDLE_STOP_S later. A pull lost while wanted is retried with backoff for the room's grace
// (MEDIA_END_GRACE_S unless the room sets its own).
// Always-on sources are pulled without viewers by exactly one front at a time: the one holding the
// source's lease in MySQL (holder + expiry, renewed every few seconds, taken over once expired).
// Runs in the front process (where plays arrive); every ffmpeg is killed on shutdown.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { and, eq, isNull, lt, ne, or } from "drizzle-orm";
import type { Clock } from "../clock";
import type { Db } from "../db/client";
import { rooms, streamSources } from "../db/schema";
import { env } from "../env";
import { errorText, log } from "../log";
import { graceOf } from "../rooms/grace";
import {
  sourceTarget,
  mainOfSubStream,
  markSource,
  parseSourceUrl,
  sourceOf,
  sourceUrl,
  subStreamName,
  type SourceRow,
} from "../sources";
import { liveH264Args, run } from "./ffmpeg";
import { proxyRefusal, readerTag, sourceEnv } from "./source-proxy";
import { publishKey } from "./keys";

/** The LTStream client gives up after 5 s: a pull that is not publishing by then is a failed play. */
export const START_BUDGET_MS = 4000;
const PROBE_MS = 2500;
/**
 * How long "Probe now" may take: an operator waits for it, and on a busy host ffprobe's own start,
 * the connection and a keyframe can take longer than the pull's start-up budget allows (CI saw a
 * live RTMP source answer "unreachable" at 2.5 s).
 */
export const MANUAL_PROBE_MS = 6000;
const RETRY_MAX_MS = 15_000;
const FIRST_START_RETRY_MS = 250;
const QUICK_RETRIES = 4;
/** How often leases are renewed (and wants marked): a third of SOURCE_LEASE_S. */
const leaseTurnMs = () => Math.max(200, (env().SOURCE_LEASE_S * 1000) / 3);
/** How long a pull that plays wait for starts waits for the source's probe before it starts copying. */
const EARLY_PROBE_MS = 1500;
const wait = (ms: number) => sleep(ms, undefined, { ref: false });

/** Why a source cannot be read; `kind` is the reason's kind where the message is not one ("address refused"). */
export class PullError extends Error {
  constructor(
    message: string,
    readonly kind?: string,
  ) {
    super(message);
  }
}

interface Pull {
  key: string;
  source: SourceRow;
  appId: number;
  stream: string;
  /** The room's grace (server/rooms/grace.ts): a lost pull is retried this long. */
  graceMs: number;
  proc?: ChildProcess;
  viewers: number;
  /** Publishing now (frames flowing). */
  live: boolean;
  /** Plays waiting for it to be live (retries included); failed when the pull gives up. */
  waiters: Set<{ resolve: () => void; reject: (e: Error) => void }>;
  idle?: NodeJS.Timeout;
  retry?: NodeJS.Timeout;
  lostAt?: number;
  attempt: number;
  /** Quick retries made for waiting plays since the pull was last live. */
  quick: number;
  stopped: boolean;
  /** Pulled whether or not anyone plays it: an always-on source this instance holds the lease of. */
  pinned: boolean;
  /** Renews this front's lease on the source while the pull runs (either mode). */
  renew?: NodeJS.Timeout;
}

type PullRoom = { num: number; appId: number; streamName: string; keyVersion: number; graceS: number | null };

/** Why an attempt failed, in words an operator can act on (never the URL: it may hold credentials). */
export function pullFailure(stderr: string, otherwise = "pull failed"): string {
  if (/401|403|unauthori[sz]ed|forbidden/i.test(stderr)) return "auth failed";
  if (/refused|timed out|timeout|no route|unreachable|resolve|not found|404/i.test(stderr)) return "unreachable";
  if (/codec|decoder|encoder|invalid data/i.test(stderr)) return "codec";
  return otherwise;
}

interface Probe {
  video?: string;
  audio?: string;
  width?: number;
  height?: number;
  fps?: number;
}

const inputArgs = (u: URL, ms: number) =>
  u.protocol.startsWith("rtsp")
    ? ["-rtsp_flags", "prefer_tcp", "-timeout", String(ms * 1000)]
    : ["-rw_timeout", String(ms * 1000)];

/** Codecs, size and frame rate of a source (bounded by `ms`, PROBE_MS unless said). */
export async function probeSource(
  url: string,
  ms = PROBE_MS,
  sourceArgs: string[] = [],
  /** The proxy tag of the pull this probe is for (sourceEnv); its own otherwise. */
  tag = readerTag(),
): Promise<Probe> {
  const u = parseSourceUrl(url);
  const r = await run(
    env().FFPROBE_PATH,
    [
      ...[
        "-v",
        "error",
        ...inputArgs(u, ms),
        ...sourceArgs,
        "-analyzeduration",
        "1000000",
        "-probesize",
        "1000000",
        "-i",
        url,
      ],
      ...["-show_entries", "stream=codec_type,codec_name,width,height,avg_frame_rate", "-of", "json"],
    ],
    ms,
    await sourceEnv(url, tag),
  );
  if (r.code !== 0) {
    const reason = pullFailure(r.err, r.code === null ? "unreachable" : "pull failed");
    // An address the checking proxy refused reads as the source's own 403 (or a segment that cannot
    // be opened) to ffprobe: said as it is.
    const refused = await proxyRefusal(tag);
    if (refused) throw new PullError(refused, "address refused");
    throw new PullError(reason);
  }
  const streams =
    (JSON.parse(r.out || "{}") as { streams?: Array<Record<string, string | number | undefined>> }).streams ?? [];
  const v = streams.find((s) => s.codec_type === "video");
  const a = streams.find((s) => s.codec_type === "audio");
  const [n = 0, d = 1] = String(v?.avg_frame_rate ?? "0/1")
    .split("/")
    .map(Number);
  return {
    video: v?.codec_name as string | undefined,
    audio: a?.codec_name as string | undefined,
    width: v?.width as number | undefined,
    height: v?.height as number | undefined,
    fps: d ? Math.round(n / d) : undefined,
  };
}

/** Every Pulls of this process, for shutdown. */
const everyPulls = new Set<Pulls>();
export const stopAllPulls = () => Promise.all([...everyPulls].map((p) => p.stopAll()));

export class Pulls {
  private pulls = new Map<string, Pull>();
  /** Who this instance is in stream_sources.lease_holder. */
  readonly holder = crypto.randomUUID();
  private leaseTimer?: NodeJS.Timeout;
  /** Stopped (shutdown): a lease turn still running when it stopped starts nothing. */
  private halted = false;
  /** Always-on sources whose pull gave up: not started again before this time (ms). */
  private cooldown = new Map<number, number>();
  constructor(
    private db: () => Db,
    private clock: Clock,
    /** Confines the always-on loop to one app (tests that share a database with others). */
    private leaseScope?: { appId: number },
  ) {
    everyPulls.add(this);
  }

  /** ffmpeg processes this instance has started (tests: a source's pull starts once, not again for its audio). */
  launches = 0;
  /** Running ffmpeg pulls (tests and health). */
  get running() {
    return [...this.pulls.values()].filter((p) => p.proc && p.proc.exitCode === null).length;
  }

  /**
   * A play of `stream` (a room's stream, or its `-sub` companion): when a source feeds it, makes sure
   * the source is being pulled and is publishing, within START_BUDGET_MS. Returns the release to call
   * when the viewer leaves, or undefined when no source feeds this stream. Throws PullError.
   */
  async forPlay(stream: string, again = false): Promise<(() => void) | undefined> {
    const main = mainOfSubStream(stream);
    const room = (
      await this.db()
        .select({
          num: rooms.num,
          appId: rooms.appId,
          streamName: rooms.streamName,
          keyVersion: rooms.keyVersion,
          graceS: rooms.graceS,
        })
        .from(rooms)
        .where(eq(rooms.streamName, main ?? stream))
    )[0];
    if (!room) return undefined;
    const source = await sourceOf(this.db(), room.num, main ? "sub" : "main");
    if (!source) return undefined;
    const key = `${room.num}:${source.kind}`;
    let pull = this.pulls.get(key);
    // An always-on source is pulled by the front holding its lease (maybe another): a play never starts a second pull.
    if (source.mode === "always_on" && !pull?.pinned) return undefined;
    if (pull && pull.source.urlEnc !== source.urlEnc) {
      // The URL changed since: the next viewer gets the new one.
      if (pull.viewers === 0) void this.stop(pull);
      pull = undefined;
    }
    if (!pull) {
      if (this.runningOf(room.appId) >= env().SOURCE_PULLS_PER_APP) throw new PullError("too many pulls for this app");
      // Another front pulls it: this one's viewers watch that pull (one ffmpeg per source, not per front).
      if (!(await this.takeLease(source.id))) return this.watchElsewhere(stream, source, again);
      pull = this.begin(room, source, false);
    }
    const p = pull;
    p.viewers++;
    if (p.idle) clearTimeout(p.idle);
    p.idle = undefined;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      p.viewers--;
      if (p.viewers > 0 || p.pinned || p.stopped) return;
      this.idleLater(p, env().SOURCE_IDLE_STOP_S * 1000);
    };
    if (p.live) return release;
    // Waits for the pull to be live (a failed attempt is retried meanwhile), within the client's budget.
    let waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { resolve, reject };
        p.waiters.add(waiter);
        timer = setTimeout(() => reject(new PullError("not publishing in time")), START_BUDGET_MS);
      });
    } catch (e) {
      release();
      throw e instanceof PullError ? e : new PullError((e as Error).message);
    } finally {
      clearTimeout(timer);
      if (waiter) p.waiters.delete(waiter);
    }
    return release;
  }

  /** Stops an on-demand pull `ms` from now unless viewers came back here, or other fronts still want it. */
  private idleLater(p: Pull, ms: number) {
    p.idle = setTimeout(() => {
      if (p.viewers > 0 || p.pinned || p.stopped) return;
      void sourceOf(this.db(), p.source.roomNum, p.source.kind)
        .then((row) => {
          const wantedFor = (row?.wantedUntil?.getTime() ?? 0) - this.clock.now().getTime();
          if (wantedFor > 0 && row?.urlEnc === p.source.urlEnc) this.idleLater(p, wantedFor + 100);
          else if (p.viewers === 0 && !p.pinned) void this.stop(p);
        })
        .catch(() => this.idleLater(p, 1000));
    }, ms);
    p.idle.unref();
  }

  private leaseEnd() {
    return new Date(this.clock.now().getTime() + env().SOURCE_LEASE_S * 1000);
  }

  /** Takes the source's pull lease for this front (free, expired, or already its own): true when it holds it. */
  private async takeLease(sourceId: number) {
    await this.releasing.get(sourceId);
    const now = this.clock.now();
    await this.db()
      .update(streamSources)
      .set({ leaseHolder: this.holder, leaseUntil: this.leaseEnd() })
      .where(
        and(
          eq(streamSources.id, sourceId),
          or(
            isNull(streamSources.leaseHolder),
            lt(streamSources.leaseUntil, now),
            eq(streamSources.leaseHolder, this.holder),
          ),
        ),
      );
    const row = await this.db()
      .select({ holder: streamSources.leaseHolder })
      .from(streamSources)
      .where(eq(streamSources.id, sourceId));
    return row[0]?.holder === this.holder;
  }

  /** Gives the lease up (the pull stopped here), unless another front holds it by now. */
  private releaseLease(sourceId: number) {
    const done = this.db()
      .update(streamSources)
      .set({ leaseHolder: null, leaseUntil: null })
      .where(and(eq(streamSources.id, sourceId), eq(streamSources.leaseHolder, this.holder)))
      .then(() => undefined)
      .catch((e: unknown) => log.warn("source lease not released", { error: errorText(e) }))
      .finally(() => {
        if (this.releasing.get(sourceId) === done) this.releasing.delete(sourceId);
      });
    this.releasing.set(sourceId, done);
    return done;
  }

  /** Releases under way, by source id: a take waits for them (a pull restarted here keeps its lease). */
  private releasing = new Map<number, Promise<void>>();

  /** Viewers here of on-demand sources another front pulls, by source id: they keep wanted_until renewed. */
  private elsewhere = new Map<number, { viewers: number; timer: NodeJS.Timeout }>();

  /**
   * A play of a source another front pulls: this front says it wants it (wanted_until, renewed while
   * its viewers stay) and waits, within the client's budget, until that pull is publishing. When the
   * other front gave the pull up meanwhile, this one takes it (once).
   */
  private async watchElsewhere(stream: string, source: SourceRow, again: boolean): Promise<() => void> {
    const want = () =>
      this.db()
        .update(streamSources)
        .set({ wantedUntil: this.leaseEnd() })
        .where(eq(streamSources.id, source.id))
        .catch((e: unknown) => log.warn("source not marked wanted", { error: errorText(e) }));
    let w = this.elsewhere.get(source.id);
    if (!w) {
      const timer = setInterval(() => void want(), leaseTurnMs());
      timer.unref();
      w = { viewers: 0, timer };
      this.elsewhere.set(source.id, w);
    }
    const entry = w;
    entry.viewers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--entry.viewers > 0) return;
      clearInterval(entry.timer);
      this.elsewhere.delete(source.id);
    };
    await want();
    const end = Date.now() + START_BUDGET_MS;
    for (;;) {
      const row = await sourceOf(this.db(), source.roomNum, source.kind);
      const now = this.clock.now();
      const held = !!row?.leaseHolder && !!row.leaseUntil && row.leaseUntil >= now;
      if (row && held && row.state === "live") return release;
      if (!row || row.urlEnc !== source.urlEnc) {
        release();
        throw new PullError("the source was removed");
      }
      if (!held && !again) {
        release();
        return (await this.forPlay(stream, true)) ?? (() => undefined);
      }
      if (Date.now() >= end) {
        release();
        throw new PullError("not publishing in time");
      }
      await wait(150);
    }
  }

  private runningOf(appId: number) {
    return [...this.pulls.values()].filter((p) => p.appId === appId && !p.stopped).length;
  }

  /** Starts pulling `source` into its room's stream (or its -sub companion). */
  private begin(room: PullRoom, source: SourceRow, pinned: boolean): Pull {
    const name = source.kind === "sub" ? subStreamName(room.streamName) : room.streamName;
    const pull: Pull = {
      key: `${room.num}:${source.kind}`,
      source,
      appId: room.appId,
      stream: name,
      graceMs: graceOf(room) * 1000,
      viewers: 0,
      live: false,
      waiters: new Set(),
      attempt: 0,
      quick: 0,
      stopped: false,
      pinned,
    };
    this.pulls.set(pull.key, pull);
    // (A pinned pull's lease is renewed by the always-on loop, with all the others it holds.)
    pull.renew = setInterval(
      () =>
        !pull.pinned &&
        void this.db()
          .update(streamSources)
          .set({ leaseUntil: this.leaseEnd() })
          .where(and(eq(streamSources.id, source.id), eq(streamSources.leaseHolder, this.holder)))
          .catch((e: unknown) => log.warn("source lease not renewed", { error: errorText(e) })),
      leaseTurnMs(),
    );
    pull.renew.unref();
    this.attempt(pull, publishKey({ streamName: name, keyVersion: room.keyVersion }));
    return pull;
  }

  /**
   * Runs the always-on loop: every LEASE_S/3 this instance renews the leases it holds, takes the
   * free or expired ones (one conditional UPDATE each: exactly one instance wins), and pulls what it
   * holds (and stops what it no longer holds). Nothing here is authoritative: the rows are.
   */
  startAlwaysOn() {
    if (this.leaseTimer) return;
    let running = false;
    this.leaseTimer = setInterval(() => {
      if (running) return;
      running = true;
      this.tickLeases()
        .catch((e: unknown) => log.warn("always-on sources: lease turn failed", { error: errorText(e) }))
        .finally(() => (running = false));
    }, leaseTurnMs());
    this.leaseTimer.unref();
    return this;
  }

  /** One turn of the always-on loop (exported for tests through startAlwaysOn, and called by it). */
  async tickLeases() {
    const db = this.db();
    const now = this.clock.now();
    const until = this.leaseEnd();
    const alwaysOn = and(
      eq(streamSources.mode, "always_on"),
      this.leaseScope ? eq(streamSources.appId, this.leaseScope.appId) : undefined,
    );
    const free = or(isNull(streamSources.leaseHolder), lt(streamSources.leaseUntil, now));
    await db
      .update(streamSources)
      .set({ leaseUntil: until })
      .where(and(alwaysOn, eq(streamSources.leaseHolder, this.holder)));
    // Free or expired leases of rooms that have not ended (bounded per turn; the next turn takes more).
    const open = await db
      .select({ id: streamSources.id, appId: streamSources.appId })
      .from(streamSources)
      .innerJoin(rooms, eq(rooms.num, streamSources.roomNum))
      .where(and(alwaysOn, free, ne(rooms.status, "ended")))
      .limit(50);
    for (const o of open) {
      if (this.runningOf(o.appId) >= env().SOURCE_PULLS_PER_APP) continue;
      if ((this.cooldown.get(o.id) ?? 0) > Date.now()) continue;
      await db
        .update(streamSources)
        .set({ leaseHolder: this.holder, leaseUntil: until })
        .where(and(eq(streamSources.id, o.id), alwaysOn, free));
    }
    const mine = await db
      .select({ source: streamSources, room: rooms })
      .from(streamSources)
      .innerJoin(rooms, eq(rooms.num, streamSources.roomNum))
      .where(and(alwaysOn, eq(streamSources.leaseHolder, this.holder), ne(rooms.status, "ended")))
      .limit(1000);
    if (this.halted) return;
    const held = new Set(mine.map((m) => `${m.room.num}:${m.source.kind}`));
    // Pulls this instance no longer holds (lease lost, mode or URL changed, source or room gone).
    for (const p of this.pulls.values()) {
      if (!p.pinned || held.has(p.key)) continue;
      p.pinned = false;
      if (p.viewers > 0) continue;
      // Made on demand: idle (its room waits for a viewer, not abandoned). Taken over by another
      // front, or removed: not marked (the other front writes its state).
      const now = await sourceOf(db, p.source.roomNum, p.source.kind);
      const mineToIdle = now?.urlEnc === p.source.urlEnc && now.mode === "on_demand";
      void this.stop(p, mineToIdle ? "idle" : "removed");
    }
    for (const { source, room } of mine) {
      const key = `${room.num}:${source.kind}`;
      const pull = this.pulls.get(key);
      if (pull && pull.source.urlEnc === source.urlEnc) {
        pull.pinned = true;
        continue;
      }
      if (pull) void this.stop(pull, "removed");
      if ((this.cooldown.get(source.id) ?? 0) > Date.now() || this.halted) continue;
      this.begin(room, source, true);
    }
  }

  /** One attempt: address check, probe, ffmpeg; a failure goes to lost() (retry or give up). */
  private attempt(pull: Pull, key: string) {
    // One attempt ends once: its ffmpeg's exit and its own failure (the probe's, say) may both come.
    let ended = false;
    const lost = (reason: string) => {
      if (ended || pull.stopped) return;
      ended = true;
      this.lost(pull, key, reason);
    };
    const resolveReady = () => {
      pull.live = true;
      for (const w of pull.waiters) w.resolve();
      pull.waiters.clear();
    };
    const now = () => this.clock.now();
    void (async () => {
      // A retry of a source removed or changed meanwhile (device deleted or updated) does not go on.
      const current = await sourceOf(this.db(), pull.source.roomNum, pull.source.kind);
      if (current?.urlEnc !== pull.source.urlEnc) {
        await this.stop(pull, "removed");
        return;
      }
      await markSource(this.db(), pull.source.id, now(), pull.lostAt ? "retrying" : "starting", {
        retried: !!pull.lostAt,
        resetRetries: !pull.lostAt,
      });
      // Checked on every start, and pulled from the address checked (RTSP, RTMP: sourceTarget).
      const target = await sourceTarget(parseSourceUrl(sourceUrl(pull.source)));
      if (target.refused !== undefined) throw new PullError(target.refused, "address refused");
      const url = target.url;
      // HTTP(S), RTMPS and RTSPS sources: every connection ffmpeg makes for them goes through the
      // checking proxy (source-proxy.ts); the local RTMP output is plain TCP and does not.
      // One proxy tag for this attempt's probe and launches: what the proxy refuses them is told apart
      // from the source's own answers.
      const tag = readerTag();
      const childEnv = await sourceEnv(url, tag);
      if (pull.stopped) return;
      // Cameras send H.264 nearly always, and often no audio: a source without audio gets a silent AAC
      // track (players are told to expect audio: NMS's FLV header always says so). The probe decides
      // (below); when it is slow for a waiting play, the pull starts copying the video with the silent
      // track and is started again only when the probe finds another video codec (transcoded) or an
      // audio track (made AAC).
      const probing = probeSource(url, PROBE_MS, target.args, tag).catch((x: unknown) =>
        x instanceof Error ? x : new Error(String(x)),
      );
      const replaced = new WeakSet<ChildProcess>();
      const launch = (copyVideo: boolean, sourceAudio: boolean, fps = 25) => {
        const e = env();
        const args = [
          ...["-hide_banner", "-loglevel", "error", "-nostdin"],
          ...inputArgs(parseSourceUrl(url), PROBE_MS),
          ...target.args,
          // The first launch reads as little as it can before starting (the probe beside it looks deeper).
          ...(copyVideo && !sourceAudio
            ? ["-analyzeduration", "200000", "-probesize", "100000"]
            : ["-analyzeduration", "1000000", "-probesize", "1000000"]),
          ...["-i", url],
          ...(sourceAudio ? [] : ["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono"]),
          ...["-map", "0:v:0", "-map", sourceAudio ? "0:a:0" : "1:a:0"],
          ...(copyVideo ? ["-c:v", "copy"] : liveH264Args(Math.max(2, fps * 2))),
          // Audio is always made AAC (cheap): cameras often send G.711, which browsers' players lack.
          // The silent track ends with the video (-shortest), so a lost source still ends the pull.
          ...["-c:a", "aac", "-ar", "44100", "-b:a", "96k", ...(sourceAudio ? [] : ["-shortest"])],
          ...["-progress", "pipe:1", "-stats_period", "0.1"],
          ...["-f", "flv", `rtmp://127.0.0.1:${e.MEDIA_RTMP_PORT}/live/${pull.stream}?key=${key}`],
        ];
        const proc = spawn(e.FFMPEG_PATH, args, { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
        this.launches++;
        pull.proc = proc;
        let err = "";
        let live = false;
        proc.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
        proc.stdout.on("data", (d: Buffer) => {
          if (live || !/frame=[1-9]/.test(d.toString())) return;
          live = true;
          pull.lostAt = undefined;
          pull.attempt = 0;
          pull.quick = 0;
          resolveReady();
          void markSource(this.db(), pull.source.id, now(), "live", { error: "" }).catch(() => undefined);
        });
        proc.on("error", (x) => log.error("ffmpeg could not start", { error: x.message }));
        proc.on("close", () => {
          if (pull.proc === proc) pull.proc = undefined;
          if (pull.stopped || replaced.has(proc)) return;
          // ffmpeg's messages repeat the URL: only the classified reason is kept and logged.
          const reason = pullFailure(err, live ? "source ended" : "pull failed");
          void probing.then(async (p) => {
            if (pull.stopped || pull.proc) return;
            // A copy that failed before the probe answered may only need transcoding.
            if (!live && copyVideo && !(p instanceof Error) && p.video && p.video !== "h264")
              return launch(false, !!p.audio, p.fps);
            // A pull that never went live may have failed on the checking proxy's refusal (ffmpeg
            // sees a 403 or a segment it cannot open): said as it is. Not one that went live: an HLS
            // reader skips a segment it cannot open and goes on, and its later end is its own.
            const refused = !live ? await proxyRefusal(tag) : undefined;
            if (pull.stopped || pull.proc) return;
            lost(refused ?? reason);
          });
        });
        if (pull.stopped) proc.kill("SIGKILL");
      };
      // The probe usually answers within a second: launched after it, the pull starts once with the
      // right settings (a restart for the source's audio would stall players that just started). A
      // pull nobody waits for (always on) waits for the probe whole; plays wait at most EARLY_PROBE_MS,
      // then the pull starts copying and is started again only if the probe says it must.
      const early = await Promise.race([probing, wait(pull.waiters.size ? EARLY_PROBE_MS : PROBE_MS + 500)]);
      if (pull.stopped) return;
      if (early && !(early instanceof Error)) {
        if (!early.video) throw new PullError("codec: the source has no video");
        launch(early.video === "h264", !!early.audio, early.fps);
        return;
      }
      launch(true, false);
      const probe = await probing;
      // A failed probe changes nothing: the running ffmpeg succeeds or fails on its own.
      if (pull.stopped || probe instanceof Error || (probe.video === "h264" && !probe.audio)) return;
      const running = pull.proc;
      if (running) {
        replaced.add(running);
        void kill(running);
        pull.proc = undefined;
      }
      if (!probe.video) throw new PullError("codec: the source has no video");
      launch(probe.video === "h264", !!probe.audio, probe.fps);
    })().catch((x: unknown) => lost(x instanceof PullError ? x.message : "pull failed"));
  }

  /** A pull that ended unwanted: retried with backoff while it is wanted and within the grace. */
  private lost(pull: Pull, key: string, reason: string) {
    log.warn("source pull ended", { room: pull.key, reason });
    pull.lostAt ??= Date.now();
    pull.live = false;
    // Wanted while someone watches, within the idle window after the last left, or always.
    const wanted = pull.viewers > 0 || pull.idle !== undefined || pull.pinned;
    const withinGrace = Date.now() - pull.lostAt < pull.graceMs;
    if (!wanted || !withinGrace) {
      // An always-on pull that gave up is started again by the lease loop after a pause.
      if (pull.pinned) this.cooldown.set(pull.source.id, Date.now() + RETRY_MAX_MS);
      this.pulls.delete(pull.key);
      pull.stopped = true;
      clearInterval(pull.renew);
      void this.releaseLease(pull.source.id);
      for (const w of pull.waiters) w.reject(new PullError(reason));
      pull.waiters.clear();
      void markSource(this.db(), pull.source.id, this.clock.now(), "failed", { error: reason }).catch(() => undefined);
      return;
    }
    void markSource(this.db(), pull.source.id, this.clock.now(), "retrying", { error: reason }).catch(() => undefined);
    // While plays wait for a first start (a camera busy tearing down a session answers 503 for a moment),
    // retries come quickly so that one of them lands inside the client's budget; later losses back off.
    // (At most QUICK_RETRIES of them until it is live again: a camera that is down is not hammered.)
    const quick = pull.waiters.size > 0 && pull.quick < QUICK_RETRIES;
    if (quick) pull.quick++;
    const delay = quick ? FIRST_START_RETRY_MS : Math.min(RETRY_MAX_MS, 500 * 2 ** pull.attempt++);
    if (pull.retry) clearTimeout(pull.retry);
    pull.retry = setTimeout(() => !pull.stopped && this.attempt(pull, key), delay);
    pull.retry.unref();
  }

  /** Stops a pull on purpose: no viewer left (the source is idle, so its room is not abandoned), or its source is gone. */
  private stop(pull: Pull, why: "idle" | "removed" | "crash" = "idle") {
    pull.stopped = true;
    for (const w of pull.waiters) w.reject(new PullError(why === "removed" ? "the source was removed" : "stopped"));
    pull.waiters.clear();
    if (this.pulls.get(pull.key) === pull) this.pulls.delete(pull.key);
    if (pull.idle) clearTimeout(pull.idle);
    if (pull.retry) clearTimeout(pull.retry);
    clearInterval(pull.renew);
    // A crash (tests: a front killed outright) leaves its lease to expire.
    if (why !== "crash") void this.releaseLease(pull.source.id);
    if (why === "idle") void markSource(this.db(), pull.source.id, this.clock.now(), "idle").catch(() => undefined);
    return kill(pull.proc);
  }

  /**
   * Shutdown (and tests): every ffmpeg ends, and the leases held are given up so another front takes
   * the always-on pulls over at its next turn. `release: false` leaves them as a crash would (they
   * expire after SOURCE_LEASE_S).
   */
  async stopAll({ release = true } = {}) {
    this.halted = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
    await Promise.all([...this.pulls.values()].map((p) => this.stop(p, release ? "idle" : "crash")));
    if (release)
      await this.db()
        .update(streamSources)
        .set({ leaseHolder: null, leaseUntil: null })
        .where(eq(streamSources.leaseHolder, this.holder))
        .catch((e: unknown) => log.warn("always-on sources: leases not released", { error: errorText(e) }));
  }
}

function kill(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const hard = setTimeout(() => proc.kill("SIGKILL"), 3000);
    proc.once("close", () => {
      clearTimeout(hard);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}
