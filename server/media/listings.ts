// What SRS and nginx-rtmp say they publish, polled: SRS's HTTP API (/api/v1/streams, JSON) and
// nginx-rtmp's statistics page (/stat, XML). Each format is parsed into MediaEvents — one `listed`
// (reconciliation) and one `health` per stream — that server/media/hooks.ts applies like any hook.
import { env } from "../env";
import type { MediaEvent, Via } from "./hooks";
import type { HealthReading } from "./health";
import { parseStreamPath } from "./keys";

const MAX_BODY = 8 * 1024 * 1024;
const SRS_PAGE = 1000;
const SRS_MAX_PAGES = 20;

/** GET with a deadline and a size cap; throws on anything but a 200. */
export async function fetchText(url: string, timeoutMs = 5000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  if (res.status !== 200) throw new Error(`answered ${res.status}`);
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY) {
      await reader.cancel();
      throw new Error("answer too large");
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Every page of SRS's stream list (it answers at most `count` a page), all within `timeoutMs`. */
export async function srsStreams(base: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  const streams: unknown[] = [];
  for (let page = 0; page < SRS_MAX_PAGES; page++) {
    const url = new URL("/api/v1/streams/", base);
    url.search = `start=${page * SRS_PAGE}&count=${SRS_PAGE}`;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error("no answer in time");
    const body = JSON.parse(await fetchText(url.toString(), left)) as { code?: number; streams?: unknown[] };
    if (body.code !== 0 || !Array.isArray(body.streams)) return body;
    streams.push(...body.streams);
    if (body.streams.length < SRS_PAGE) break;
  }
  return { code: 0, streams };
}

/**
 * Who publishes `stream` at the server a hook came from, as that server lists it now (its client id
 * as hooks name it; undefined: nobody), or null when onair cannot ask it (no MEDIA_SRS_API_URL /
 * MEDIA_NGINX_STAT_URL) or it did not answer within `timeoutMs`.
 */
export async function publisherNow(via: Via, stream: string, timeoutMs = 2000): Promise<string | undefined | null> {
  const e = env();
  try {
    const events =
      via === "srs" && e.MEDIA_SRS_API_URL
        ? srsStreamsEvents(await srsStreams(e.MEDIA_SRS_API_URL, timeoutMs), new Date(), new Map())
        : via === "nginx" && e.MEDIA_NGINX_STAT_URL
          ? nginxStatEvents(await fetchText(e.MEDIA_NGINX_STAT_URL, timeoutMs), new Date())
          : undefined;
    const listed = events?.find((ev) => ev.kind === "listed");
    return listed?.kind === "listed" ? listed.streams.get(stream) : null;
  } catch {
    return null;
  }
}

/** An onair stream name from a server's app and stream fields; undefined for anything else. */
function liveStream(app: string, stream: string) {
  const p = parseStreamPath(`${app.replace(/^\/+|\/+$/g, "") || "live"}/${stream}`);
  return p && p.app === "live" ? p.name : undefined;
}

/** Frame counters of SRS streams at the previous poll: SRS gives a running count, the rate is ours. */
export type SrsCounters = Map<string, { frames: number; atMs: number }>;

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === "string" && v ? v : null);

/**
 * SRS's `GET /api/v1/streams` answer (SrsStatisticStream::dumps in SRS 5–7: `publish.active/cid`,
 * `kbps.recv_30s`, `frames`, `video{codec,width,height}`, `audio{codec}`). Streams SRS still lists
 * after their publisher left (`publish.active` false) are not published. `counters` carries the
 * frame counts between polls (updated in place).
 */
export function srsStreamsEvents(body: unknown, at: Date, counters: SrsCounters): MediaEvent[] {
  const o = body as { code?: unknown; streams?: unknown } | null;
  if (!o || typeof o !== "object" || o.code !== 0 || !Array.isArray(o.streams))
    throw new Error("not an SRS /api/v1/streams answer");
  const events: MediaEvent[] = [];
  const published = new Map<string, string>();
  const seen = new Set<string>();
  for (const s of o.streams as Array<Record<string, unknown>>) {
    if (!s || typeof s !== "object") continue;
    const name = liveStream(str(s.app) ?? "", str(s.name) ?? "");
    const publish = s.publish as { active?: unknown; cid?: unknown } | undefined;
    if (!name || publish?.active !== true) continue;
    published.set(name, `srs:${str(publish.cid) ?? ""}`);
    const id = str(s.id) ?? name;
    seen.add(id);
    const frames = num(s.frames);
    const before = counters.get(id);
    const fps =
      frames !== null && before && at.getTime() > before.atMs && frames >= before.frames
        ? ((frames - before.frames) * 1000) / (at.getTime() - before.atMs)
        : null;
    if (frames !== null) counters.set(id, { frames, atMs: at.getTime() });
    const video = (s.video ?? null) as Record<string, unknown> | null;
    const audio = (s.audio ?? null) as Record<string, unknown> | null;
    const reading: HealthReading = {
      videoCodec: str(video?.codec),
      width: num(video?.width) || null,
      height: num(video?.height) || null,
      fps: fps === null ? null : Math.round(fps * 100) / 100,
      nominalFps: null,
      // SRS measures what it receives per stream, audio and video together, over 30 s.
      videoKbps: num((s.kbps as Record<string, unknown> | undefined)?.recv_30s),
      keyframeIntervalMs: null,
      audioCodec: str(audio?.codec),
      audioKbps: null,
      uptimeS: null,
      droppedFrames: null,
    };
    events.push({ kind: "health", stream: name, via: "srs", reading });
  }
  for (const id of counters.keys()) if (!seen.has(id)) counters.delete(id);
  return [{ kind: "listed", via: "srs", prefix: "srs:", streams: published, at }, ...events];
}

/** The text of each `<tag>…</tag>` directly found in `xml` (tags of one name do not nest in /stat). */
function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  let i = xml.indexOf(open);
  while (i >= 0 && out.length < 100_000) {
    const end = xml.indexOf(close, i);
    if (end < 0) break;
    out.push(xml.slice(i + open.length, end));
    i = xml.indexOf(open, end);
  }
  return out;
}
const text = (xml: string, tag: string) => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? m[1]!.trim() : null;
};
const numText = (xml: string, tag: string) => {
  const t = text(xml, tag);
  const v = t === null ? NaN : Number(t);
  return Number.isFinite(v) ? v : null;
};

/**
 * nginx-rtmp's `/stat` page (`rtmp_stat all`): each application's streams, their publishing client
 * (`<client>` with `<publishing/>`; its `<id>` is the `clientid` the notifications send), bandwidths
 * in bits/s (`bw_video`, `bw_audio`), time since publish (ms), dropped frames and the encoder's
 * announced meta (size, frame rate, codecs). nginx measures no frame rate or keyframe interval.
 */
export function nginxStatEvents(xml: string, at: Date): MediaEvent[] {
  if (!xml.includes("<rtmp>")) throw new Error("not an nginx-rtmp /stat page");
  const events: MediaEvent[] = [];
  const published = new Map<string, string>();
  for (const server of elements(xml, "server"))
    for (const app of elements(server, "application")) {
      const appName = text(app, "name") ?? "";
      for (const stream of elements(app, "stream")) {
        const name = liveStream(appName, text(stream, "name") ?? "");
        const publisher = elements(stream, "client").find((c) => c.includes("<publishing/>"));
        if (!name || !publisher) continue;
        published.set(name, `nginx:${text(publisher, "id") ?? ""}`);
        const meta = elements(stream, "meta")[0] ?? "";
        const video = elements(meta, "video")[0] ?? "";
        const audio = elements(meta, "audio")[0] ?? "";
        const kbps = (tag: string) => {
          const bits = numText(stream, tag);
          return bits === null ? null : Math.round(bits / 1000);
        };
        const time = numText(stream, "time");
        events.push({
          kind: "health",
          stream: name,
          via: "nginx",
          reading: {
            videoCodec: text(video, "codec"),
            width: numText(video, "width") || null,
            height: numText(video, "height") || null,
            fps: null,
            nominalFps: numText(video, "frame_rate") || null,
            videoKbps: video ? kbps("bw_video") : null,
            keyframeIntervalMs: null,
            audioCodec: text(audio, "codec"),
            audioKbps: audio ? kbps("bw_audio") : null,
            uptimeS: time === null ? null : Math.round(time / 1000),
            droppedFrames: numText(publisher, "dropped"),
          },
        });
      }
    }
  return [{ kind: "listed", via: "nginx", prefix: "nginx:", streams: published, at }, ...events];
}
