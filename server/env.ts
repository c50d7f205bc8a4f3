// Every setting onair reads, validated once. Nothing else touches process.env (README lists them all).
import { isIP } from "node:net";
import { z } from "zod";

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** An OUTBOUND_ALLOW entry: a host name, an address, or an address/prefix. */
function allowEntry(entry: string) {
  const [ip = "", bits, extra] = entry.split("/");
  const family = isIP(ip.replace(/^\[(.*)\]$/, "$1"));
  if (family && extra === undefined)
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  return /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(
    entry,
  );
}

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: int(3000, 1, 65535),
  /** Internal port of the web process (Next + tRPC); the front process proxies to it. */
  WEB_PORT: int(0, 0, 65535),
  DATABASE_URL: z.string().url().optional(),
  DB_POOL_SIZE: int(10, 1, 200),
  DATA_DIR: z.string().default(".data"),
  MARIADB_PORT: int(3307, 1, 65535),
  /** Signs access, refresh, play and presence tokens and next-auth sessions. >= 32 chars. */
  AUTH_SECRET: z.string().min(32, "AUTH_SECRET must be at least 32 characters"),
  /** Encrypts app secrets at rest (AES-256-GCM). >= 32 chars. */
  ENCRYPTION_KEY: z.string().min(32, "ENCRYPTION_KEY must be at least 32 characters"),
  ADMIN_USERNAME: z.string().min(1).default("admin"),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  ACCESS_TOKEN_TTL_S: int(900, 30),
  REFRESH_TOKEN_TTL_S: int(30 * 86400, 60),
  PLAY_TOKEN_TTL_S: int(3600, 10),
  /**
   * Room tokens whose signature each process remembers as checked (their claims, about 300 bytes
   * each): a viewer's heartbeats and its player's hooks present the same token again and again.
   * Size it above the audience one process serves: beyond it, checks compute the HMAC again. The
   * last this-many presented are kept for certain, and up to twice as many are held.
   */
  VERIFIED_TOKENS_KEPT: int(10_000, 0, 10_000_000),
  PRESENCE_VIEWER_TTL_S: int(30, 1),
  PRESENCE_HOST_TTL_S: int(90, 1),
  PRESENCE_FLUSH_MS: int(500, 10, 1000),
  /** How often the web process tries a turn of the room-figures refresh (one instance runs each turn); 0 = off (lists count members themselves). */
  FIGURES_REFRESH_MS: int(1000, 0, 2000),
  /** Likes a member may add per second of presence, plus a burst: reported totals beyond are cut. */
  PRESENCE_LIKES_PER_S: int(20, 0, 10_000),
  PRESENCE_LIKES_BURST: int(50, 0, 100_000),
  REVOCATION_POLL_MS: int(1000, 50, 60000),
  MIC_SEATS: int(4, 1, 64),
  MIC_REQUEST_TTL_S: int(60, 5),
  MAX_BODY_BYTES: int(1024 * 1024, 1024),
  /** Open connections one client address (IPv6: one /64) may hold on the front; 0 = no cap; TRUST_PROXY exempt. */
  FRONT_MAX_CONN_PER_IP: int(256, 0),
  /** Requests the front streams to the web process at once; beyond it, 503 with Retry-After at once. */
  FRONT_MAX_INFLIGHT: int(512, 1),
  /** Time a client has to send a request's headers. */
  FRONT_HEADERS_TIMEOUT_MS: int(10_000, 1000),
  /** Time a client has to send a whole request (headers and body), and the web process to start answering. */
  FRONT_REQUEST_TIMEOUT_MS: int(30_000, 1000),
  /** A connection (or a proxied answer) with no traffic for this long is closed; media plays are exempt. */
  FRONT_IDLE_TIMEOUT_MS: int(120_000, 1000),
  /** Calls in one tRPC batch request; larger batches are refused with 400. */
  TRPC_MAX_BATCH: int(20, 1, 1000),
  /** Failed sign-ins of one account within 15 minutes before it is locked for the rest of them. */
  LOGIN_FAILURES_PER_ACCOUNT: int(10, 1),
  /** Sign-in attempts from one client address per minute (counted before any password work). */
  LOGIN_ATTEMPTS_PER_ADDRESS: int(30, 1),
  /** Password hashes (argon2id, 19 MiB each) running at once per process; more wait in a bounded queue. */
  PASSWORD_HASH_CONCURRENCY: int(2, 1, 64),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Public base URL of the front process, used in HTTP-FLV, HLS and VOD URLs. Default http://HOST:PORT. */
  PUBLIC_URL: z.string().url().optional(),
  /** Start the embedded media server (node-media-server + ffmpeg) with `npm start`. */
  MEDIA_EMBEDDED: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** Host name put in RTMP push/pull URLs. Default: PUBLIC_URL's host name. */
  MEDIA_RTMP_HOST: z.string().optional(),
  MEDIA_RTMP_PORT: int(1935, 1, 65535),
  /** Loopback port of the embedded server's HTTP-FLV output (the front proxies it with token checks). Default PORT + 2. */
  MEDIA_HTTP_PORT: int(0, 0, 65535),
  /** Where HLS segments and recordings are written. Default DATA_DIR/media. */
  MEDIA_DIR: z.string().optional(),
  MEDIA_HLS_SEGMENT_S: int(1, 1, 10),
  /** A stream that stopped leaves its room paused; with no re-publish within this, the room ends. */
  MEDIA_END_GRACE_S: int(60, 1),
  /** Shared secret media-server hooks may send (?secret=… or X-Onair-Hook-Secret); optional. */
  MEDIA_HOOK_SECRET: z.string().min(16).optional(),
  /**
   * Addresses of reverse proxies in front of onair (comma-separated; "loopback" for one on this host).
   * Set, the front takes the client address from their X-Forwarded-For, and hooks arriving through
   * them (or carrying X-Forwarded-For at all) need MEDIA_HOOK_SECRET: the proxy's address says nothing.
   */
  TRUST_PROXY: z.string().default(""),
  /** Addresses hooks are accepted from without the secret. */
  MEDIA_HOOK_ALLOW: z.string().default("127.0.0.1,::1,::ffff:127.0.0.1"),
  /** On first start (no app yet), create a "Default" app for vendor clients and print its keys once. */
  DEFAULT_APP: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** The app 随心播 clients register into and sign in to. Default: the first enabled app. */
  COMPAT_SXB_APP_ID: z.coerce.number().int().positive().optional(),
  /** The app AUI's demo login signs people up into (when that app has it on). Default: the first enabled app. */
  COMPAT_AUI_APP_ID: z.coerce.number().int().positive().optional(),
  /** Address other onair instances reach this instance's media node and front at (several instances). */
  MEDIA_NODE_HOST: z.string().default("127.0.0.1"),
  /** A media node that has not renewed its lease for this long is gone; its streams are stopped. */
  MEDIA_NODE_LEASE_S: int(15, 3, 600),
  /** Folders external media servers write recordings to (nginx-rtmp record_path, SRS dvr); default MEDIA_DIR. */
  MEDIA_RECORD_DIRS: z.string().optional(),
  /**
   * SRS's HTTP server as onair reaches it (e.g. http://127.0.0.1:8080). Set, the front serves SRS's
   * HLS (/live/<stream>/index.m3u8 and its segments) with the viewer's token checked on each.
   */
  MEDIA_SRS_HTTP_URL: z.string().url().optional(),
  /** The `host:port` players reach SRS's HTTP server at (apps' pullDomain); default MEDIA_SRS_HTTP_URL's. */
  MEDIA_SRS_PULL_DOMAIN: z.string().optional(),
  /**
   * Host names, addresses or CIDRs (comma-separated) that calls to user-supplied URLs (app callbacks)
   * may reach although they are internal: loopback, private, link-local… are refused otherwise.
   */
  OUTBOUND_ALLOW: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every(allowEntry), "each entry must be a host name, an address or a CIDR"),
  /** Redis for room events between instances (redis://host:6379); unset: events travel through MySQL only. */
  REDIS_URL: z.string().url().optional(),
  /** A quiet process collects its heap once it grew this much since its last collection (0: never; see idle-gc.ts). */
  IDLE_GC_GROWTH_MIB: int(16, 0, 65_536),
  /** How often each front reads room events other processes wrote (faster with no Redis to carry them). */
  EVENTS_POLL_MS: int(0, 0, 60_000),
  /** Event sockets (WebSocket and SSE) one front process holds at most; beyond it, 503. */
  EVENTS_MAX_SOCKETS: int(20_000, 1),
  /**
   * 1: the front hands event sockets to a child process of its own (started with the first socket)
   * at a lower CPU priority, so that fan-out writes do not delay heartbeats and token checks; 0:
   * the front serves them in its own process.
   */
  EVENTS_WORKER: z.enum(["0", "1"]).default("1"),
  /** How much lower the events worker's CPU priority is than the front's, in nice steps (0 the same). */
  EVENTS_WORKER_NICE: int(5, 0, 19),
  /** The events worker ends after holding no socket this long (seconds); the next socket starts it again. */
  EVENTS_WORKER_IDLE_S: int(30, 1, 86_400),
  /** A socket whose unsent events exceed this many bytes is dropped with a reconnect hint. */
  EVENTS_MAX_BUFFER_BYTES: int(512 * 1024, 16 * 1024),
  /** Socket writes a second a front aims at: a room's events are held a moment to go out together (0: at once). */
  EVENTS_WRITES_PER_S: int(10_000, 0),
  /** The longest a room event is held to go out with others (server/events/hub.ts). */
  EVENTS_BATCH_MAX_MS: int(500, 0, 5000),
  /** Longest chat message, in characters (emoji and CJK count one each). */
  CHAT_MAX_CHARS: int(500, 1, 1000),
  /** Messages one member may send within CHAT_RATE_WINDOW_S (managers too; slow mode is stricter). */
  CHAT_RATE_COUNT: int(5, 1, 1000),
  CHAT_RATE_WINDOW_S: int(10, 1, 3600),
  /** Stream-source pulls (ffmpeg processes) one app may run at once on this instance; beyond it, plays are refused (LTStream 1202). */
  SOURCE_PULLS_PER_APP: int(8, 1, 1000),
  /** An on-demand source is stopped this many seconds after its last viewer leaves. */
  SOURCE_IDLE_STOP_S: int(10, 1, 3600),
  /**
   * An always-on source is pulled by the one front holding its lease in MySQL, renewed every third of
   * this; a front that stops renewing (crashed) loses it after this many seconds and another takes over.
   */
  SOURCE_LEASE_S: int(10, 2, 300),
  /**
   * 1: this front takes always-on source leases (pulls them). 0: it never does (a front that cannot
   * reach the camera network); it still serves plays of them from the holder's stream.
   */
  SOURCE_ALWAYS_ON: z.enum(["0", "1"]).default("1"),
  /** Webhook deliveries this process sends at once (the web process runs the worker); 0: none here. */
  WEBHOOK_CONCURRENCY: int(4, 0, 64),
  /** How often the worker looks for deliveries that are due. */
  WEBHOOK_POLL_MS: int(1000, 50, 60_000),
  /** Time a receiver has to answer one delivery. */
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 60_000),
  /** The first retry waits this long; each further one twice as long, at most WEBHOOK_RETRY_MAX_S. */
  WEBHOOK_RETRY_BASE_S: int(10, 1, 3600),
  WEBHOOK_RETRY_MAX_S: int(3600, 1, 86_400),
  /** A delivery still failing this long after its event is marked failed. */
  WEBHOOK_RETRY_FOR_S: int(86_400, 10, 7 * 86_400),
  /** Delivered and failed deliveries are kept this many days (the console lists them). */
  WEBHOOK_KEEP_DAYS: int(30, 1, 3650),
  /** Seconds between stream-health readings of each live stream (and between polls of SRS's API and nginx's /stat). */
  MEDIA_HEALTH_SAMPLE_S: int(5, 1, 60),
  /** SRS's HTTP API (e.g. http://127.0.0.1:1985): polled for stream health and to reconcile rooms with SRS's streams. */
  MEDIA_SRS_API_URL: z.string().url().optional(),
  /** nginx-rtmp's statistics page (`rtmp_stat all`, e.g. http://127.0.0.1:8080/stat): health and reconciliation. */
  MEDIA_NGINX_STAT_URL: z.string().url().optional(),
  /** Seconds between thumbnails of each live room; 0 turns thumbnails off. */
  MEDIA_THUMB_INTERVAL_S: int(10, 0, 3600),
  /** Thumbnail grabs (one ffmpeg each) running at once per process. */
  MEDIA_THUMB_CONCURRENCY: int(2, 1, 32),
  FFMPEG_PATH: z.string().default("ffmpeg"),
  FFPROBE_PATH: z.string().default("ffprobe"),
});

export type Env = z.infer<typeof schema> & {
  eventsPollMs: number;
  publicUrl: string;
  mediaHttpPort: number;
  mediaDir: string;
  rtmpHost: string;
  /** The pullDomain of apps whose HLS the front serves from SRS (undefined without SRS). */
  srsPullDomain: string | undefined;
};

function load(): Env {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid onair settings:\n${lines.join("\n")}`);
  }
  const d = parsed.data;
  const publicUrl = (d.PUBLIC_URL ?? `http://${d.HOST}:${d.PORT}`).replace(/\/$/, "");
  return {
    ...d,
    publicUrl,
    eventsPollMs: d.EVENTS_POLL_MS || (d.REDIS_URL ? 1000 : 150),
    mediaHttpPort: d.MEDIA_HTTP_PORT || d.PORT + 2,
    mediaDir: d.MEDIA_DIR ?? `${d.DATA_DIR}/media`,
    rtmpHost: d.MEDIA_RTMP_HOST ?? new URL(publicUrl).hostname,
    srsPullDomain: d.MEDIA_SRS_HTTP_URL ? (d.MEDIA_SRS_PULL_DOMAIN ?? new URL(d.MEDIA_SRS_HTTP_URL).host) : undefined,
  };
}

let cached: Env | undefined;
/** The validated settings; read lazily so start-up scripts can fill defaults (secrets, DATABASE_URL) first. */
export function env(): Env {
  cached ??= load();
  return cached;
}
/** Tests change settings (TTLs) between cases. */
export function resetEnvForTests(): void {
  cached = undefined;
}
