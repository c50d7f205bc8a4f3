// Polls the external media servers onair is configured with — SRS's HTTP API and nginx-rtmp's
// /stat — every MEDIA_HEALTH_SAMPLE_S, on one instance a turn (job_runs), and applies what they say
// as MediaEvents: health readings, and reconciliation of rooms with the streams really published
// (a room whose unpublish hook was lost is paused). The turn's instance also takes their thumbnails.
import { claimTurn } from "../db/turns";
import type { Clock } from "../clock";
import type { Db } from "../db/client";
import { env } from "../env";
import { errorText, log, rateLimitedLog } from "../log";
import { applyMediaEvent, type MediaEvent } from "./hooks";
import { fetchText, nginxStatEvents, srsStreams, srsStreamsEvents, type SrsCounters } from "./listings";
import { externalInput, Thumbnailer } from "./thumbnails";

const JOB = "media_poll";
export interface PollTargets {
  srsApiUrl?: string;
  nginxStatUrl?: string;
}

const pollFailed = rateLimitedLog("warn", 1, 5);

export class MediaPoller {
  private counters: SrsCounters = new Map();
  private timer?: NodeJS.Timeout;
  private running = false;
  readonly thumbnails: Thumbnailer;
  constructor(
    private db: Db,
    private clock: Clock,
    private targets: PollTargets = { srsApiUrl: env().MEDIA_SRS_API_URL, nginxStatUrl: env().MEDIA_NGINX_STAT_URL },
  ) {
    this.thumbnails = new Thumbnailer(db, clock, (stream) => externalInput(db, stream, clock.now()));
  }

  get configured() {
    return !!(this.targets.srsApiUrl || this.targets.nginxStatUrl);
  }

  /** Whether this instance has this turn: the first to move `run_at` past the period does. */
  private claim(now: Date) {
    return claimTurn(this.db, JOB, now, new Date(now.getTime() - env().MEDIA_HEALTH_SAMPLE_S * 1000 + 251));
  }

  /**
   * One turn, when it is this instance's: each server's listing as events, applied in order. A
   * server that does not answer reconciles nothing (its silence says nothing about its streams).
   */
  async turn(force = false): Promise<MediaEvent[] | null> {
    if (!this.configured || (!force && !(await this.claim(this.clock.now())))) return null;
    const all: MediaEvent[] = [];
    const jobs: Array<[string, () => Promise<MediaEvent[]>]> = [];
    const { srsApiUrl, nginxStatUrl } = this.targets;
    if (srsApiUrl)
      jobs.push(["srs", async () => srsStreamsEvents(await srsStreams(srsApiUrl), this.clock.now(), this.counters)]);
    if (nginxStatUrl)
      jobs.push(["nginx", async () => nginxStatEvents(await fetchText(nginxStatUrl), this.clock.now())]);
    for (const [server, listing] of jobs) {
      let events: MediaEvent[];
      try {
        events = await listing();
      } catch (e) {
        pollFailed("media server not polled", { server, error: errorText(e) });
        continue;
      }
      for (const ev of events) {
        try {
          await applyMediaEvent(this.db, ev, this.clock);
        } catch (e) {
          log.warn("media event not applied", { server, kind: ev.kind, error: errorText(e) });
        }
      }
      const listed = events.find((ev) => ev.kind === "listed");
      if (listed?.kind === "listed") void this.thumbnails.tick([...listed.streams.keys()]);
      all.push(...events);
    }
    return all;
  }

  start() {
    if (!this.configured) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      void this.turn()
        .catch((e) => log.warn("media poll failed", { error: errorText(e) }))
        .finally(() => (this.running = false));
    }, env().MEDIA_HEALTH_SAMPLE_S * 1000);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
  }
}
