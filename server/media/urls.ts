// Push and pull URLs of a room, signed with its app's scheme. onair's own scheme uses the room's
// publish key and JWT play tokens; vendor schemes sign with keys derived from the app secret.
import { createHmac } from "node:crypto";
import type { apps } from "../db/schema";
import { env } from "../env";
import type { RoomRow } from "../rooms";
import { publishKey } from "./keys";
import { aliyunA, nms, tencent } from "./signers";

type App = Pick<typeof apps.$inferSelect, "signScheme" | "pushDomain" | "pullDomain"> & { secret?: () => string };

/** Keys for vendor schemes, derived from the app secret: give them to your CDN if it checks signatures. */
export function vendorKeys(secret: string) {
  const k = (p: string) => createHmac("sha256", secret).update(`onair-${p}-key`).digest("hex").slice(0, 32);
  return { pushKey: k("push"), pullKey: k("pull"), callbackKey: k("callback") };
}

function bases(app: App) {
  const e = env();
  const rtmpHost = app.pushDomain ?? `${e.rtmpHost}:${e.MEDIA_RTMP_PORT}`;
  // RTMP pulls come from the same RTMP server the host pushes to; pull_domain is the HTTP side.
  const pullRtmpHost = app.pushDomain ?? `${e.rtmpHost}:${e.MEDIA_RTMP_PORT}`;
  const http = app.pullDomain ? `http://${app.pullDomain}` : e.publicUrl;
  // SRS never asks a hook about an HLS segment: apps pulling from SRS get HLS through the front.
  const hls = app.pullDomain && app.pullDomain === e.srsPullDomain ? e.publicUrl : http;
  return { push: `rtmp://${rtmpHost}/live`, pullRtmp: `rtmp://${pullRtmpHost}/live`, http, hls };
}

const qs = (o: Record<string, string>) => new URLSearchParams(o).toString();

/** What a host needs to go live: the server and stream key split as OBS wants them, and the full URL. */
/**
 * The key a room's vendor-scheme push URLs are signed with: the app's push key while the room's
 * key is at version 1 (what a vendor CDN is configured with), a key derived for the version after
 * each rotation, so rotating ends the old push URLs at once.
 */
function roomPushKey(secret: string, room: Pick<RoomRow, "streamName" | "keyVersion">) {
  const { pushKey } = vendorKeys(secret);
  if (room.keyVersion <= 1) return pushKey;
  return createHmac("sha256", pushKey).update(`${room.streamName}:v${room.keyVersion}`).digest("hex").slice(0, 32);
}

export function pushInfo(room: Pick<RoomRow, "streamName" | "keyVersion">, app: App, expiresAtS: number) {
  const b = bases(app);
  let query: string;
  if (app.signScheme === "onair" || !app.secret) query = qs({ key: publishKey(room) });
  else {
    const pushKey = roomPushKey(app.secret(), room);
    if (app.signScheme === "tencent") query = qs(tencent.sign(pushKey, room.streamName, expiresAtS));
    else if (app.signScheme === "aliyun_a")
      query = qs({ auth_key: aliyunA.sign(pushKey, `/live/${room.streamName}`, expiresAtS) });
    else query = qs({ sign: nms.sign(pushKey, `/live/${room.streamName}`, expiresAtS) });
  }
  const streamKey = `${room.streamName}?${query}`;
  return { server: b.push, streamKey, rtmp_url: `${b.push}/${streamKey}`, srt_url: "", rts_url: "" };
}

/** Pull URLs for one viewer. With onair's scheme `token` is the viewer's play token. */
export function pullUrls(room: Pick<RoomRow, "streamName">, app: App, token: string, expiresAtS: number) {
  const b = bases(app);
  const n = room.streamName;
  const paths = { rtmp_url: `/live/${n}`, flv_url: `/live/${n}.flv`, hls_url: `/live/${n}/index.m3u8` };
  let sign: (uri: string) => string;
  if (app.signScheme === "onair" || !app.secret) {
    // Lists sign every listed room for every caller: the query is built once, not per URL.
    const query = `token=${encodeURIComponent(token)}`;
    sign = () => query;
  } else {
    const { pullKey } = vendorKeys(app.secret());
    if (app.signScheme === "tencent") {
      const query = qs(tencent.sign(pullKey, n, expiresAtS));
      sign = () => query;
    } else if (app.signScheme === "aliyun_a") sign = (uri) => qs({ auth_key: aliyunA.sign(pullKey, uri, expiresAtS) });
    else {
      const query = qs({ sign: nms.sign(pullKey, `/live/${n}`, expiresAtS) });
      sign = () => query;
    }
  }
  return {
    rtmp_url: `${b.pullRtmp}/${n}?${sign(paths.rtmp_url)}`,
    flv_url: `${b.http}${paths.flv_url}?${sign(paths.flv_url)}`,
    hls_url: `${b.hls}${paths.hls_url}?${sign(paths.hls_url)}`,
    // onair's media servers have no RTS (WebRTC) side: always empty, by type too.
    rts_url: "" as const,
  };
}

/** Checks a vendor-scheme publish signature (onair's own key is checked in streams.ts). */
/** Whether a push or play query carries a vendor scheme's signature (Tencent, Aliyun A or NMS). */
export const hasVendorSignature = (q: Record<string, string | undefined>) => !!(q.txSecret || q.auth_key || q.sign);

export function vendorPublishCheck(
  app: App,
  room: Pick<RoomRow, "streamName" | "keyVersion">,
  q: Record<string, string | undefined>,
  nowS: number,
) {
  if (!app.secret) return "invalid" as const;
  const { streamName } = room;
  const pushKey = roomPushKey(app.secret(), room);
  if (app.signScheme === "tencent") return tencent.verify(pushKey, streamName, q, nowS);
  if (app.signScheme === "aliyun_a") return aliyunA.verify(pushKey, `/live/${streamName}`, q.auth_key, nowS);
  return nms.verify(pushKey, `/live/${streamName}`, q.sign, nowS);
}

/** Checks a vendor-scheme pull signature for the requested URI. */
export function vendorPlayCheck(
  app: App,
  streamName: string,
  uri: string,
  q: Record<string, string | undefined>,
  nowS: number,
) {
  if (!app.secret) return "invalid" as const;
  const { pullKey } = vendorKeys(app.secret());
  if (app.signScheme === "tencent") return tencent.verify(pullKey, streamName, q, nowS);
  if (app.signScheme === "aliyun_a") return aliyunA.verify(pullKey, uri, q.auth_key, nowS);
  return nms.verify(pullKey, `/live/${streamName}`, q.sign, nowS);
}
