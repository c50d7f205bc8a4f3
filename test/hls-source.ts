// A live HLS source as a camera gateway serves it, for stream-source tests (Vitest and Playwright).
// ffmpeg makes a test pattern with a tone (H.264/AAC, bounded to `seconds` even
// if the run dies first) into a temporary folder, and a small HTTP server serves it at
// `/cam/index.m3u8`; paths under `/locked/` answer 401 (a source whose credentials are wrong).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lavfiInputs } from "../server/media/ffmpeg";

export interface HlsSourceOptions {
  seconds?: number;
  /** lavfi video source. */
  pattern?: string;
  toneHz?: number;
  listSize?: number;
  ffmpeg?: string;
}

export async function startHlsSource({
  seconds = 300,
  pattern = "testsrc=size=320x240:rate=25",
  toneHz = 440,
  listSize = 5,
  ffmpeg = process.env.FFMPEG_PATH || "ffmpeg",
}: HlsSourceOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "onair-hls-src-"));
  const proc = spawn(
    ffmpeg,
    [
      ...["-hide_banner", "-loglevel", "error"],
      ...lavfiInputs([pattern, `sine=frequency=${toneHz}:sample_rate=44100`], seconds),
      ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac"],
      ...["-f", "hls", "-hls_time", "1", "-hls_list_size", String(listSize), "-hls_flags", "delete_segments"],
      join(dir, "index.m3u8"),
    ],
    { stdio: "ignore" },
  );
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (path.startsWith("/locked/")) return void res.writeHead(401, { "www-authenticate": "Basic" }).end();
    const file = join(dir, path.replace(/^\/cam\//, "").replace(/[^\w.]/g, ""));
    if (!path.startsWith("/cam/")) return void res.writeHead(404).end();
    // ffmpeg replaces the playlist and deletes old segments as it goes: a file gone between the
    // request and the read is a 404 (as a gateway answers), never an unhandled stream error.
    readFile(file).then(
      (data) => res.writeHead(200).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  for (let i = 0; i < 100 && !existsSync(join(dir, "index.m3u8")); i++) await new Promise((r) => setTimeout(r, 100));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/cam/index.m3u8`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null)
        await new Promise<void>((resolve) => {
          proc.once("close", () => resolve());
          proc.kill("SIGKILL");
        });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
