// Machine-readable descriptions (OpenAPI 3.0) of the five vendor APIs onair speaks, served at
// /api/openapi/<vendor>.json and linked from the console. Field names are the seeds'.
type Schema = Record<string, unknown>;

const str = (description?: string): Schema => ({ type: "string", ...(description ? { description } : {}) });
const int = (description?: string, extra: Schema = {}): Schema => ({
  type: "integer",
  ...(description ? { description } : {}),
  ...extra,
});
const bool = (): Schema => ({ type: "boolean" });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: "object",
  properties,
  ...(required.length ? { required } : {}),
});
const arr = (items: Schema): Schema => ({ type: "array", items });
const json = (schema: Schema) => ({ content: { "application/json": { schema } } });
const form = (schema: Schema) => ({ content: { "application/x-www-form-urlencoded": { schema } } });

function op(
  summary: string,
  body: Schema | undefined,
  ok: Schema,
  opts: {
    form?: boolean;
    security?: boolean;
    errors?: Schema;
    query?: Array<{ name: string; required?: boolean; description?: string }>;
  } = {},
) {
  return {
    summary,
    ...(opts.query
      ? {
          parameters: opts.query.map((q) => ({
            in: "query",
            name: q.name,
            required: !!q.required,
            schema: { type: "string" },
            description: q.description,
          })),
        }
      : {}),
    ...(body ? { requestBody: { required: true, ...(opts.form ? form(body) : json(body)) } } : {}),
    responses: {
      "200": { description: "ok", ...json(ok) },
      ...(opts.errors ? { "4XX": { description: "error", ...json(opts.errors) } } : {}),
    },
    ...(opts.security ? { security: [{ bearer: [] }] } : {}),
  };
}

const doc = (
  title: string,
  description: string,
  paths: Record<string, Record<string, unknown>>,
  extra: Schema = {},
) => ({
  openapi: "3.0.3",
  info: { title, version: "1.0.0", description },
  servers: [{ url: "/" }],
  paths,
  ...extra,
});

const status = obj({ code: int("HTTP status"), message: str(), details: { type: "object" } });
const pull = obj({ flv_url: str(), hls_url: str(), rtmp_url: str(), rts_url: str() });
const roomInfo = obj({
  id: str("room id"),
  created_at: str(),
  updated_at: str(),
  title: str(),
  notice: str(),
  cover_url: str(),
  anchor_id: str(),
  anchor_nick: str(),
  extends: str(),
  status: int("0 prepare, 1 live, 2 ended"),
  mode: int("0 normal, 1 co-host, 2 PK"),
  chat_id: str(),
  pk_id: str(),
  meeting_id: str(),
  meeting_info: str("JSON of the co-host list"),
  vod_id: str(),
  started_at: str(),
  stopped_at: str(),
  metrics: obj({ like_count: int(), online_count: int(), pv: int(), uv: int() }),
  pull_url_info: pull,
  push_url_info: obj({ rtmp_url: str(), rts_url: str(), srt_url: str() }),
  link_info: obj({ rtc_push_url: str(), rtc_pull_url: str(), cdn_pull_info: pull }),
  user_status: obj({ mute: bool(), mute_source: arr(str()) }),
  vod_info: obj({
    status: int(),
    playlist: arr(
      obj({
        play_url: str(),
        format: str(),
        duration: str(),
        size: int(),
        creation_time: str(),
        status: str(),
        stream_type: str(),
        definition: str(),
      }),
    ),
  }),
});
const member = obj({
  user_id: str(),
  user_nick: str(),
  user_avatar: str(),
  camera_opened: bool(),
  mic_opened: bool(),
  rtc_pull_url: str(),
});
const idReq = obj({ id: str(), user_id: str("the id the caller logs in with") }, ["id"]);
const createReq = obj(
  {
    anchor: str("the host's user id (the id they log in with): the caller, or for admins a host of their app"),
    anchor_nick: str(),
    cover_url: str(),
    extends: str(),
    mode: int(),
    notice: str(),
    title: str(),
    im_server: arr(str("aliyun_old | aliyun_new (accepted, not used)")),
  },
  ["anchor", "title"],
);
const tokenReq = obj({ device_id: str(), device_type: str(), user_id: str("the caller's own user id") }, [
  "device_id",
  "device_type",
]);

const aui = doc(
  "AUI Kits interactive-live AppServer (onair)",
  "Alibaba Cloud AUI AppServer API. Bearer token from /login. Users are the ids they log in with (onair usernames) in every field that names one (anchor, anchor_id, user_id, meeting members); members a host's client names that onair does not know (RTC ids) are kept as sent. Apps may turn on the demo login (password = user id, account made on first login; off by default).",
  {
    "/login": {
      post: op(
        "App user login",
        obj({ username: str(), password: str() }, ["username", "password"]),
        obj({ code: int(), expire: str(), token: str() }),
        { errors: status },
      ),
    },
    "/api/v1/live/login": {
      post: op(
        "App user login",
        obj({ username: str(), password: str() }, ["username", "password"]),
        obj({ code: int(), expire: str(), token: str() }),
        { errors: status },
      ),
    },
    "/api/v1/live/refresh_token": {
      post: op("Renew the bearer token", undefined, obj({ code: int(), expire: str(), token: str() }), {
        security: true,
        errors: status,
      }),
    },
    "/api/v1/live/create": { post: op("Create a room", createReq, roomInfo, { security: true, errors: status }) },
    "/api/v2/live/create": {
      post: op("Create a room (as the iOS and Android clients call it)", createReq, roomInfo, {
        security: true,
        errors: status,
      }),
    },
    "/api/v1/live/getStatistics": {
      post: op(
        "Room figures (mobile clients)",
        obj({ chatroom_id: str("room id") }, ["chatroom_id"]),
        obj({ code: int(), metrics: obj({ like_count: int(), online_count: int(), pv: int(), uv: int() }) }),
        { security: true, errors: status },
      ),
    },
    "/api/v1/live/get": { post: op("Get a room", idReq, roomInfo, { security: true, errors: status }) },
    "/api/v1/live/list": {
      post: op(
        "List rooms",
        obj({ page_num: int(), page_size: int(), status: int("-1 all"), user_id: str() }, [
          "page_num",
          "page_size",
          "user_id",
        ]),
        arr(roomInfo),
        { security: true, errors: status },
      ),
    },
    "/api/v1/live/update": {
      post: op("Update a room", obj({ id: str(), title: str(), notice: str(), extends: str() }), roomInfo, {
        security: true,
        errors: status,
      }),
    },
    "/api/v1/live/delete": { post: op("Delete a room", idReq, roomInfo, { security: true, errors: status }) },
    "/api/v1/live/start": { post: op("Start", idReq, roomInfo, { security: true, errors: status }) },
    "/api/v1/live/pause": { post: op("Pause (status answers 0)", idReq, roomInfo, { security: true, errors: status }) },
    "/api/v1/live/stop": { post: op("Stop", idReq, roomInfo, { security: true, errors: status }) },
    "/api/v1/live/token": {
      post: op("Per-device tokens", tokenReq, obj({ access_token: str(), refresh_token: str() }), {
        security: true,
        errors: status,
      }),
    },
    "/api/v2/live/token": {
      post: op(
        "Per-device tokens per IM service (the Web client's call); both services carry onair's own tokens",
        obj(
          {
            ...(tokenReq.properties as Record<string, Schema>),
            role: str(),
            im_server: arr(str("aliyun_old | aliyun_new")),
          },
          ["device_id", "device_type"],
        ),
        obj({
          code: int(),
          access_token: str(),
          refresh_token: str(),
          aliyun_old_im: obj({ access_token: str(), refresh_token: str() }),
          aliyun_new_im: obj({
            app_id: str("the app's access key"),
            app_sign: str("empty"),
            app_token: str("the device access token"),
            auth: obj({ user_id: str(), nonce: str(), timestamp: int("expiry, unix seconds"), role: str() }),
          }),
        }),
        { security: true, errors: status },
      ),
    },
    "/api/v1/live/getMeetingInfo": {
      post: op("Co-host list", obj({ id: str() }), obj({ members: arr(member) }), { security: true, errors: status }),
    },
    "/api/v1/live/updateMeetingInfo": {
      post: op("Replace the co-host list", obj({ id: str(), members: arr(member) }), obj({ members: arr(member) }), {
        security: true,
        errors: status,
      }),
    },
  },
  { components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } },
);

const env = (data?: Schema) =>
  obj({ errorCode: int("0 ok; 10001–10010, 20001, 20002, 90000"), errorInfo: str(), ...(data ? { data } : {}) });
const sxbCmds: Record<string, [string, Schema, Schema | undefined]> = {
  "account/regist": [
    "Register (pwd: an opaque secret, stored hashed as sent)",
    obj({ id: str(), pwd: str() }, ["id", "pwd"]),
    undefined,
  ],
  "account/login": [
    "Log in (pwd as at regist; a base64 pwd also opens an account whose password is its decoding)",
    obj({ id: str(), pwd: str() }, ["id", "pwd"]),
    obj({ userSig: str(), token: str() }),
  ],
  "account/logout": ["Log out", obj({ token: str() }, ["token"]), undefined],
  "live/create": ["Create a room", obj({ token: str(), type: str() }), obj({ roomnum: int(), groupid: str() })],
  "live/reportroom": [
    "Report the created room (goes live)",
    obj({
      token: str(),
      room: obj({
        title: str(),
        roomnum: int(),
        type: str(),
        groupid: str(),
        cover: str(),
        appid: int("the client SDK's app id (e.g. 1400019352), stored with the room"),
        device: int(),
        videotype: int(),
      }),
    }),
    undefined,
  ],
  "live/roomlist": [
    "Live rooms",
    obj({
      token: str(),
      type: str('"live" (or the Web demo\'s 1)'),
      index: int(),
      size: int(),
      appid: int("only rooms reported under this SDK app id; 0 or none: all"),
    }),
    obj({
      total: int(),
      rooms: arr(
        obj({
          uid: str(),
          info: obj({
            title: str(),
            roomnum: int(),
            type: str(),
            groupid: str(),
            cover: str(),
            thumbup: int(),
            memsize: int(),
          }),
        }),
      ),
    }),
  ],
  "live/reportmemid": [
    "Enter (operate 0) or leave (1); the role listed is the server's (host 1, on the mic 2, else 0)",
    obj({ token: str(), id: str(), roomnum: int(), role: int(), operate: int() }),
    undefined,
  ],
  "live/roomidlist": [
    "Members",
    obj({ token: str(), roomnum: int(), index: int(), size: int() }),
    obj({ total: int(), idlist: arr(obj({ id: str(), role: int() })) }),
  ],
  "live/heartbeat": [
    "Heartbeat every 10 s (thumbup = running like total)",
    obj({ token: str(), roomnum: int(), role: int(), thumbup: int() }),
    undefined,
  ],
  "live/request": ["Request to co-host", obj({ token: str(), roomnum: int() }), undefined],
  "live/reportstatus": ["Co-host on/off", obj({ token: str(), roomnum: int(), status: str("on | off") }), undefined],
  "live/reportrecord": [
    "Report a recording",
    obj({ token: str(), roomnum: int(), uid: str(), name: str(), type: int(), cover: str() }),
    undefined,
  ],
  "live/exitroom": ["Leave (the host ends the room)", obj({ token: str(), roomnum: int(), type: str() }), undefined],
  "live/recordlist": [
    "Recordings",
    obj({ token: str(), type: int(), index: int(), size: int() }),
    obj({ total: int(), videos: arr(obj({ uid: str(), cover: str(), videoId: str(), playurl: str() })) }),
  ],
  "live/livestreamlist": [
    "Live streams with play addresses",
    obj({ token: str(), index: int(), size: int() }),
    obj({
      total: int(),
      videos: arr(obj({ uid: str(), cover: str(), address: str(), address2: str(), address3: str() })),
    }),
  ],
  "live/getroomplayurl": [
    "Play addresses of a room",
    obj({ token: str(), roomnum: int() }),
    obj({ cover: str(), address: str(), address2: str(), address3: str() }),
  ],
  "live/callback": [
    "Tencent Cloud live callback (event_type 0 stop, 1 push, 100 record; sign = md5(key + t))",
    obj({ event_type: int(), t: int(), sign: str(), stream_id: str(), video_url: str() }),
    undefined,
  ],
};
const sxbPaths: Record<string, Record<string, unknown>> = {};
for (const [k, [summary, body, data]] of Object.entries(sxbCmds)) {
  const [svc, cmd] = k.split("/");
  sxbPaths[`/sxb/index.php?svc=${svc}&cmd=${cmd}`] = { post: op(summary, body, env(data)) };
}
const sxb = doc(
  "随心播 business server (onair)",
  'POST /sxb/index.php?svc=…&cmd=… (also /index.php and the Web demo\'s /sxb_new/), JSON bodies under any content type. Ids are the ids accounts registered with. Errors travel in the envelope with HTTP 200. Apps may require timeStamp + sign = md5("<path>?svc=<svc>&cmd=<cmd>&timeStamp=<ts>" + app secret).',
  sxbPaths,
);

const ltDevice = obj({
  code: str("device code = room number; the <code> of /live/<code>.flv"),
  name: str(),
  path: str("main stream URL as scheme://host[:port] only (credentials are never shown)"),
  sub_path: str("sub stream URL, same masking; empty when none"),
  address: str(),
  status: str("the room: prepare | live | paused | ended"),
  online: bool(),
  state: str("the main pull: idle | starting | live | retrying | failed"),
  last_error: str("auth failed | unreachable | codec | …"),
  retries: int(),
});
const ltEnvelope = (data: Schema) => obj({ code: int(), data, message: str() });
const signed = (fields: Record<string, Schema> = {}, required: string[] = []) =>
  obj({ signature: str("as for get_token; each signature is good once"), ...fields }, ["signature", ...required]);
const deviceFields = {
  name: str(),
  path: str("main stream: rtsp(s)://, rtmp(s)://, http(s):// (FLV or HLS)"),
  sub_path: str("sub stream (type 2), optional"),
  address: str("where the device is"),
};
const monitorPaths: Record<string, Record<string, unknown>> = {
  "/api/third/monitor_add": {
    post: op(
      "Register a device (addMonitor): answers its code",
      signed(deviceFields, ["name", "path"]),
      ltEnvelope(ltDevice),
      {
        form: true,
      },
    ),
  },
  "/api/third/monitor_update": {
    post: op(
      "Change a device (updateMonitor); an empty sub_path removes the sub stream",
      signed({ code: str(), ...deviceFields }, ["code", "name", "path"]),
      ltEnvelope(ltDevice),
      { form: true },
    ),
  },
  "/api/third/monitor_list": {
    post: op("Every device of the app (getMonitorList)", signed(), ltEnvelope(arr(ltDevice)), { form: true }),
  },
  "/api/third/monitor_paginate": {
    post: op(
      "A page of devices (getMonitorPaginate), Laravel's paginator keys",
      signed({ page: int("default 1"), page_size: int("default 15, at most 100") }),
      ltEnvelope(obj({ current_page: int(), per_page: int(), total: int(), last_page: int(), data: arr(ltDevice) })),
      { form: true },
    ),
  },
  "/api/third/monitor_info": {
    post: op("One device (getMonitorInfo)", signed({ code: str() }, ["code"]), ltEnvelope(ltDevice), { form: true }),
  },
  "/api/third/monitor_delete": {
    post: op("Remove a device (deleteMonitor)", signed({ code: str() }, ["code"]), ltEnvelope(obj({ code: str() })), {
      form: true,
    }),
  },
};

const ltstream = doc(
  "LTStream third-party access (onair)",
  "get_token and monitor_* with signature = base64(header).base64(payload).md5(base64(header).base64(payload)+app_secret), header Version: v1, form-encoded. An unknown device code or a refused source URL is 2001. Codes 200, 400, 404, 500, 1001–1006, 1101–1103, 1201–1202, 2001.",
  {
    "/api/third/get_token": {
      post: op(
        "Pull token (after the app's callback approves)",
        obj({ signature: str() }, ["signature"]),
        obj({ code: int(), data: obj({ expire: int("ms"), token: str() }), message: str() }),
        { form: true },
      ),
    },
    ...monitorPaths,
    "/live/{code}.ts": {
      get: {
        summary: "Play a room's or device's stream as MPEG-TS over HTTP (getMainTsLiveUrl, getSubTsLiveUrl)",
        parameters: [
          { in: "path", name: "code", required: true, schema: { type: "string" } },
          { in: "query", name: "type", schema: { type: "string" }, description: "1 main stream, 2 sub stream" },
          { in: "query", name: "token", required: true, schema: { type: "string" } },
        ],
        responses: {
          "200": { description: "video/mp2t (H.264/AAC)" },
          "401": { description: "1102 invalid / 1103 expired token", ...json(obj({ code: int(), message: str() })) },
          "404": { description: "1201 no such stream", ...json(obj({ code: int(), message: str() })) },
          "502": { description: "1202 the stream cannot be pulled", ...json(obj({ code: int(), message: str() })) },
        },
      },
    },
    "/live/{code}.flv": {
      get: {
        summary: "Play a room or device (code = room number; getMainFlvLiveUrl, getSubFlvLiveUrl)",
        parameters: [
          { in: "path", name: "code", required: true, schema: { type: "string" } },
          { in: "query", name: "type", schema: { type: "string" }, description: "1 main stream, 2 sub stream" },
          { in: "query", name: "token", required: true, schema: { type: "string" } },
        ],
        responses: {
          "200": { description: "video/x-flv" },
          "401": { description: "1102 invalid / 1103 expired token", ...json(obj({ code: int(), message: str() })) },
          "404": { description: "1201 no such stream", ...json(obj({ code: int(), message: str() })) },
          "502": { description: "1202 the stream cannot be pulled", ...json(obj({ code: int(), message: str() })) },
        },
      },
    },
  },
);

const polyv = doc("Polyv live push (onair)", "channelId = room number; channel password shown to the room's host.", {
  "/api/v2/teacher_login.json": {
    post: op(
      "Push address: url + stream",
      obj(
        {
          passwd: str("md5(channel password)"),
          sign: str('md5("live.polyv.net"+channelId+passwd+timestamp)'),
          timestamp: str("13-digit ms"),
          number: str(),
          account: str(),
        },
        ["passwd", "sign", "timestamp", "number"],
      ),
      obj({ url: str(), stream: str() }),
      { form: true, errors: obj({ status: str(), code: int(), message: str() }) },
    ),
  },
  "/v1/channels/{channelId}/update": {
    post: op(
      "Rename the channel",
      obj(
        {
          name: str(),
          ptime: str(),
          sign: str('upper(md5("APPCHANNELSET"+"channelId="+id+"name="+name+"APPCHANNELSET"))'),
        },
        ["name", "ptime", "sign"],
      ),
      obj({ status: str(), result: str() }),
      { form: true },
    ),
  },
  "/front/listUsers": {
    get: op(
      "Online viewers",
      undefined,
      obj({ count: int(), userlist: arr(obj({ nick: str(), pic: str(), userType: str() })) }),
      { query: [{ name: "roomId", required: true }] },
    ),
  },
});

const hstEnv = (extra: Record<string, Schema>) =>
  obj({ code: int("0 ok; 606000001 token timeout; 60500300xx errors"), msg: str(), ...extra });
const urls = { flv_url: str(), m3u8_url: str(), rtmp_url: str() };
const haoshitong = doc(
  "Haoshitong cloud live (onair)",
  "access_token from /v1/access_token (or the CloudLiveDemo console's /generate/token → /server/address → /access/token); pass it as ?access_token=, Authorization: Bearer <token> or a bare Authorization: <token>. A group = rooms sharing one chat id.",
  {
    "/v1/access_token": {
      post: op(
        "Access token",
        obj({ app_id: str("app access key"), app_secret: str() }, ["app_id", "app_secret"]),
        hstEnv({ result: obj({ timeout: int("seconds"), access_token: str() }) }),
      ),
    },
    "/generate/token": {
      post: op(
        "Developer token (CloudLiveDemo sign-in, step 1; 10 minutes)",
        obj({ appId: str("app access key"), appSecret: str() }, ["appId", "appSecret"]),
        hstEnv({ result: str("developer token") }),
      ),
    },
    "/server/address": {
      get: op("Business gateway (step 2): this server's public URL", undefined, hstEnv({ result: str() }), {
        query: [{ name: "appType" }],
      }),
    },
    "/access/token": {
      get: {
        summary: "Access token for `Authorization: <appId>.<developer token>` (step 3)",
        responses: {
          "200": { description: "ok", ...json(hstEnv({ result: obj({ timeout: int(), access_token: str() }) })) },
        },
      },
    },
    "/v1/live/start": {
      post: op(
        "Start a server-side mix",
        obj(
          {
            app_id: str(),
            group_id: str(),
            width: int("1–1920", { default: 1920 }),
            height: int("1–1080", { default: 1080 }),
            crop_mode: int("1 stretch, 2 crop, 3 fit", { default: 2 }),
            frame_rate: int("1–30", { default: 30 }),
            quality_level: int("1–3", { default: 2 }),
            qulity_level: int("the CloudLiveDemo console's spelling of quality_level"),
          },
          ["app_id", "group_id"],
        ),
        hstEnv({ group_id: str(), ...urls }),
        { query: [{ name: "access_token", required: true }] },
      ),
    },
    "/v1/live/stop": {
      post: op(
        "Stop the mix",
        obj({ app_id: str(), group_id: str() }, ["app_id", "group_id"]),
        hstEnv({ group_id: str() }),
        { query: [{ name: "access_token", required: true }] },
      ),
    },
    "/v1/live/list": {
      get: op(
        "Running mixes (also as result.live_info_list, which the CloudLiveDemo console reads)",
        undefined,
        hstEnv({
          list: arr(obj({ group_id: str(), start_time: int(), ...urls })),
          result: obj({ live_info_list: arr(obj({ group_id: str(), start_time: int(), ...urls })) }),
        }),
        {
          query: [
            { name: "app_id", required: true },
            { name: "access_token", required: true },
          ],
        },
      ),
    },
  },
);

export const OPENAPI: Record<string, object> = { aui, sxb, ltstream, polyv, haoshitong };
export const API_LIST = [
  { id: "aui", name: "Alibaba Cloud AUI AppServer", base: "/login, /api/v1/live/, /api/v2/live/" },
  { id: "sxb", name: "随心播", base: "/sxb/index.php, /index.php, /sxb_new/" },
  {
    id: "ltstream",
    name: "LTStream",
    base: "/api/third/get_token, /api/third/monitor_*, /live/<code>.flv, /live/<code>.ts",
  },
  { id: "polyv", name: "Polyv push", base: "/api/v2/teacher_login.json, /v1/channels/, /front/listUsers" },
  { id: "haoshitong", name: "Haoshitong", base: "/v1/access_token, /v1/live/, /generate/token, /access/token" },
];
