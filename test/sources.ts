// Fixtures for stream-source tests: a real RTSP server (GStreamer's, from Debian), an LTStream
// client that signs and posts exactly as the PHP extension does, and a look at running pulls.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { env } from "../server/env";
import { startHlsSource as startHls, type HlsSourceOptions } from "./hls-source";
import { type Tenant } from "./helpers";

/** The python with Debian's GObject bindings (python3-gi), whatever python3 comes first on PATH. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Starts test/rtsp-server.py on `port` (rtsp://127.0.0.1:<port>/main 640x360, /sub 320x180). */
export async function startRtspServer(port: number): Promise<ChildProcess> {
  const script = fileURLToPath(new URL("./rtsp-server.py", import.meta.url));
  const proc = spawn(SYSTEM_PYTHON, [script, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`RTSP server not ready in 10 s: ${err}`)), 10_000);
    proc.stdout.on("data", (d: Buffer) => {
      if (!d.toString().includes("ready")) return;
      clearTimeout(timer);
      resolve();
    });
    proc.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP server exited (${code}): ${err}`));
    });
  });
  return proc;
}

export function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once("close", () => resolve());
    proc.kill("SIGKILL");
  });
}

type LtAnswer = { code: number; message: string; data?: Record<string, unknown> & { code?: string } };

/** LTStream's PHP extension against onair at `base`: the same signature, form and Version header. */
export function ltClient(base: string, t: Tenant) {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64");
  const signature = () => {
    const h = b64({ alg: "md5", type: "jwt", request_id: `{${randomUUID().toUpperCase()}}` });
    const p = b64({ timestamp: Math.floor(Date.now() / 1000), sdk_key: randomUUID(), ak: t.accessKey });
    return `${h}.${p}.${createHash("md5").update(`${h}.${p}${t.secret}`).digest("hex")}`;
  };
  const call = async (name: string, fields: Record<string, string | number> = {}): Promise<LtAnswer> => {
    const body = new URLSearchParams({ signature: signature() });
    for (const [k, v] of Object.entries(fields)) body.set(k, String(v));
    const r = await fetch(`${base}/api/third/${name}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", Version: "v1" },
      body: body.toString(),
    });
    expect(r.status).toBe(200);
    return (await r.json()) as LtAnswer;
  };
  return { call, token: async () => String((await call("get_token")).data!.token) };
}

/** ffmpeg pulls of a source (the pull's command line holds its URL and publishes FLV). */
export const pullsOf = (url: string) =>
  execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(url) && l.includes(" -f flv ")).length;

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` every 100 ms until `ok` holds or `ms` pass; returns the last value. */
export async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await wait(100);
    v = await read();
  }
  return v;
}

/** test/hls-source.ts with the ffmpeg onair's settings name. */
export const startHlsSource = (o: HlsSourceOptions = {}) => startHls({ ffmpeg: env().FFMPEG_PATH, ...o });
