// Malformed input against every vendor endpoint and media hook: mutated JSON, form and query
// bodies (with field names the endpoints read, values of every type) must never produce a 5xx
// answer or an error-level log line — a bad request is the client's, answered with its code.
import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createAuiHandler } from "../server/compat/aui";
import { createHaoshitongHandler } from "../server/compat/haoshitong";
import { createLtHandler } from "../server/compat/ltstream";
import { createPolyvHandler } from "../server/compat/polyv";
import { createSxbHandler } from "../server/compat/sxb";
import { createFrontServer } from "../server/front/server";
import { log } from "../server/log";
import { callerOf, makeTenant, PASSWORD, type Tenant } from "./helpers";

let t: Tenant;
let web: http.Server;
let front: ReturnType<typeof createFrontServer>;
let base: string;
let token = "";
let roomNum = 0;
beforeAll(async () => {
  t = await makeTenant();
  const handlers = [
    createSxbHandler(),
    createAuiHandler(),
    createLtHandler(),
    createPolyvHandler(),
    createHaoshitongHandler(),
  ];
  web = http.createServer((req, res) => {
    if (!handlers.some((h) => h(req, res))) res.writeHead(404).end();
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  front = createFrontServer({ webOrigin: `http://127.0.0.1:${(web.address() as AddressInfo).port}` });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  token = (await callerOf({ kind: "anonymous" }).auth.login({ username: t.host.username, password: PASSWORD }))
    .accessToken;
  const room = await callerOf(t.host).rooms.create({ title: "fuzz" });
  roomNum = room.num;
});
afterAll(async () => {
  await new Promise((r) => front.close(r));
  await new Promise((r) => web.close(r));
});

const ENDPOINTS: Array<{ method: "GET" | "POST"; path: string; form?: boolean }> = [
  ...["regist", "login", "logout"].map((cmd) => ({
    method: "POST" as const,
    path: `/sxb/index.php?svc=account&cmd=${cmd}`,
  })),
  ...[
    "create",
    "reportroom",
    "roomlist",
    "reportmemid",
    "roomidlist",
    "request",
    "reportstatus",
    "reportrecord",
    "exitroom",
    "recordlist",
    "livestreamlist",
    "getroomplayurl",
    "heartbeat",
    "callback",
    "nonsense",
  ].map((cmd) => ({ method: "POST" as const, path: `/sxb/index.php?svc=live&cmd=${cmd}` })),
  ...[
    "create",
    "get",
    "list",
    "update",
    "delete",
    "start",
    "pause",
    "stop",
    "token",
    "getMeetingInfo",
    "updateMeetingInfo",
    "refresh_token",
    "getStatistics",
  ].map((verb) => ({ method: "POST" as const, path: `/api/v1/live/${verb}` })),
  { method: "POST", path: "/api/v2/live/token" },
  { method: "POST", path: "/api/v2/live/create" },
  { method: "POST", path: "/sxb_new/?svc=live&cmd=roomlist" },
  { method: "POST", path: "/generate/token" },
  { method: "GET", path: "/access/token" },
  { method: "GET", path: "/server/address?appType=10" },
  { method: "POST", path: "/login" },
  { method: "POST", path: "/api/third/get_token", form: true },
  { method: "POST", path: "/api/v2/teacher_login.json", form: true },
  { method: "POST", path: "/v1/channels/1/update", form: true },
  { method: "GET", path: "/front/listUsers?roomId=1" },
  { method: "POST", path: "/v1/access_token" },
  { method: "POST", path: "/v1/live/start?access_token=x" },
  { method: "POST", path: "/v1/live/stop?access_token=x" },
  { method: "GET", path: "/v1/live/list?app_id=x&access_token=x" },
  { method: "POST", path: "/hooks/srs" },
  { method: "POST", path: "/hooks/nginx", form: true },
  { method: "GET", path: "/hooks/nginx/auth" },
  { method: "POST", path: "/api/presence/heartbeat" },
  { method: "POST", path: "/api/presence/leave" },
  { method: "GET", path: "/api/tokens/verify" },
  { method: "GET", path: "/api/rooms/state" },
];

/** Field names the endpoints read, so mutated bodies get past the first checks. */
const FIELDS = [
  "token",
  "id",
  "pwd",
  "roomnum",
  "room",
  "title",
  "type",
  "index",
  "size",
  "appid",
  "role",
  "operate",
  "status",
  "thumbup",
  "name",
  "uid",
  "event_type",
  "t",
  "sign",
  "stream_id",
  "video_url",
  "username",
  "password",
  "anchor",
  "page_num",
  "page_size",
  "members",
  "device_id",
  "signature",
  "channelId",
  "passwd",
  "timestamp",
  "app_id",
  "app_secret",
  "group_id",
  "action",
  "app",
  "stream",
  "param",
  "client_id",
  "call",
  "path",
  "file",
  "cwd",
  "likes",
  "user_id",
  "im_server",
  "chatroom_id",
  "appId",
  "appSecret",
  "qulity_level",
  "extends",
  "notice",
  "cover_url",
  "mode",
  "number",
  "account",
  "timeStamp",
];
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("", "0", "-1", "1e308", "NaN", "../../etc/passwd", "😀", "live", "on", "<script>"),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => v as unknown),
  fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
);

const text = (v: unknown) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v));

async function send(e: (typeof ENDPOINTS)[number], b: unknown, withToken: boolean) {
  const fields = b && typeof b === "object" && !Array.isArray(b) ? { ...(b as Record<string, unknown>) } : undefined;
  if (fields && withToken) {
    fields.token = token;
    fields.roomnum ??= roomNum;
  }
  const raw = fields && "raw" in fields && Object.keys(fields).length === 1 ? text(fields.raw) : undefined;
  const payload =
    raw ??
    (e.form
      ? new URLSearchParams(Object.entries(fields ?? {}).map(([k, v]) => [k, text(v)])).toString()
      : JSON.stringify(fields ?? b));
  const init: RequestInit = {
    method: e.method,
    headers: {
      "content-type": e.form ? "application/x-www-form-urlencoded" : "application/json",
      authorization: withToken ? `Bearer ${token}` : "Bearer nope",
      "x-original-uri": typeof fields?.path === "string" ? fields.path : "/live/x/index.m3u8",
    },
  };
  let url = `${base}${e.path}`;
  if (e.method === "POST") init.body = payload;
  else if (fields)
    url +=
      (url.includes("?") ? "&" : "?") +
      new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, text(v)])).toString();
  return fetch(url, init);
}

describe("fuzzed input", () => {
  it("no 5xx and no error log line from any vendor endpoint or hook", { timeout: 240_000 }, async () => {
    const errors = vi.spyOn(log, "error");
    const bad: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, fc.boolean(), async (e, b, withToken) => {
        const r = await send(e, b, withToken);
        await r.arrayBuffer();
        if (r.status >= 500) bad.push(`${e.method} ${e.path} → ${r.status} for ${JSON.stringify(b).slice(0, 200)}`);
        return true;
      }),
      { numRuns: 1500, seed: 20261129 },
    );
    expect(bad).toEqual([]);
    expect(errors.mock.calls.map((c) => c[0])).toEqual([]);
    errors.mockRestore();
  });
});
