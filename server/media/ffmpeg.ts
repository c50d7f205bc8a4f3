// ffmpeg/ffprobe helpers (Debian's packages; scripts install them when missing).
import { spawn } from "node:child_process";
import { env } from "../env";

/** Live H.264 for RTMP/FLV players: low latency, browser-safe pixels, a keyframe every `gop` frames. */
export const liveH264Args = (gop: number) => [
  ...["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency"],
  ...["-g", String(gop), "-pix_fmt", "yuv420p"],
];

/**
 * lavfi sources as ffmpeg inputs, each read in real time and, with `seconds`, each bounded: a `-t`
 * before the first input bounds only that input, and an unbounded tone then ran on at full speed
 * once the pattern ended (a push left behind by an interrupted run took most of a core for half an
 * hour).
 */
export const lavfiInputs = (sources: string[], seconds?: number) =>
  sources.flatMap((src) => [
    "-re",
    ...(seconds === undefined ? [] : ["-t", String(seconds)]),
    "-f",
    "lavfi",
    "-i",
    src,
  ]);

/** A synthetic source (test pattern and tone) for test pushes and benchmarks. */
export const testSourceArgs = (size: string, fps: number, seconds?: number) =>
  lavfiInputs([`testsrc=size=${size}:rate=${fps}`, "sine=frequency=440:sample_rate=44100"], seconds);

/** ffmpeg's messages repeat its input URLs: their signatures and tokens are not for logs. */
export const redactUrls = (text: string) => text.replace(/([?&](?:sign|token|key|txSecret|auth_key)=)[^\s&"]+/g, "$1…");

export function run(
  bin: string,
  args: string[],
  timeoutMs = 120_000,
  /** The child's environment (default: this process's). */
  childEnv?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err = (err + d).slice(-8000)));
    const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", (e) => {
      clearTimeout(killer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

/** Duration in ms (0 when unknown). */
export async function probeDurationMs(file: string): Promise<number> {
  const r = await run(
    env().FFPROBE_PATH,
    ["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file],
    30_000,
  );
  const s = Number.parseFloat(r.out.trim());
  return Number.isFinite(s) ? Math.round(s * 1000) : 0;
}

/** Remuxes (no re-encode) to MP4 with the index up front, so browsers can play and seek it. */
export async function remuxToMp4(input: string, output: string) {
  const r = await run(env().FFMPEG_PATH, [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-i",
    input,
    "-c",
    "copy",
    "-movflags",
    "+faststart",
    output,
  ]);
  if (r.code !== 0) throw new Error(`ffmpeg remux failed: ${r.err.slice(-500)}`);
}
