// Room events at scale (issue 12): 5,000 WebSockets in one room on this machine, one chat message a
// second from 10 senders in turn, delivery latency to every socket (p50/p99), the front's memory per
// socket, and the hot paths measured again while the sockets are open and the chat flows.
// Sockets come from 20 loopback addresses (250 each), as real viewers come from many, and live in a
// process of their own (bench/socket-clients.ts).
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import WebSocket from "ws";

type Measure = (
  name: string,
  base: string,
  r: { method?: "GET" | "POST"; path: string; headers?: Record<string, string>; bodies?: string[] },
) => Promise<{ name: string; rps: number; p99: number; p50: number; bad: number }>;

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 5000);
const ADDRESSES = 20;

function rssKiB(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

function percentile(sorted: number[], p: number) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runSockets(opts: {
  base: string;
  roomId: string;
  /** Presence tokens of the senders (members of the room). */
  senders: string[];
  frontPid: number;
  measure: Measure;
  /** The hot-path requests to measure again under the socket load. */
  hot: Array<{ name: string; req: Parameters<Measure>[2] }>;
  seconds: number;
}) {
  const wsBase = opts.base.replace(/^http/, "ws") + "/api/rooms/events";
  // The hot paths just before, in the same conditions, for the comparison below.
  const before = [];
  for (const h of opts.hot) before.push((await opts.measure(`${h.name} (no sockets)`, opts.base, h.req)).rps);
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssKiB(opts.frontPid);
  const clients = fork(new URL("./socket-clients.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T>(msg: unknown) =>
    new Promise<T>((resolve) => {
      clients.once("message", (r) => resolve(r as T));
      clients.send(msg as object);
    });
  const t0 = Date.now();
  const { opened, refused } = await ask<{ opened: number; refused: number }>({
    open: { url: `${wsBase}?room=${opts.roomId}`, count: SOCKETS, addresses: ADDRESSES },
  });
  const connectS = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = rssKiB(opts.frontPid);
  console.log(
    `\nroom events: ${opened} sockets open in one room in ${connectS.toFixed(1)} s (${refused} refused); front RSS ${Math.round(rssBefore / 1024)} → ${Math.round(rssAfter / 1024)} MiB, ${((rssAfter - rssBefore) / Math.max(1, opened)).toFixed(1)} KiB per socket`,
  );

  // The hot paths beside the sockets while they are idle: what holding them costs, apart from traffic.
  const idle = [];
  for (const h of opts.hot) idle.push((await opts.measure(`${h.name} + idle sockets`, opts.base, h.req)).rps);

  // Senders: members with presence tokens, on sockets of their own.
  const senders = await Promise.all(
    opts.senders.slice(0, 10).map(
      (token) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${wsBase}?room=${opts.roomId}&token=${token}`);
          ws.once("open", () => resolve(ws));
          ws.once("error", reject);
        }),
    ),
  );
  let sent = 0;
  const errors: string[] = [];
  for (const s of senders)
    s.on("message", (d) => {
      const t = Buffer.from(d as Buffer).toString("utf8");
      if (t.includes('"type":"error"')) errors.push(t.slice(0, 120));
    });
  const chat = setInterval(() => {
    const s = senders[sent % senders.length]!;
    s.send(JSON.stringify({ type: "chat", text: `bench ${Date.now()} 你好 🎉` }));
    sent++;
  }, 1000);
  // The hot paths while the sockets are open and the chat flows.
  const under = [];
  for (const [i, h] of opts.hot.entries())
    under.push({ ...h, before: before[i]!, row: await opts.measure(`${h.name} + sockets`, opts.base, h.req) });
  const rest = Math.max(0, opts.seconds * 1000 - under.length * 1000);
  await new Promise((r) => setTimeout(r, Math.min(rest, 20_000)));
  clearInterval(chat);
  await new Promise((r) => setTimeout(r, 2000));
  const { received, latencies } = await ask<{ received: number; latencies: number[] }>({ report: true });
  latencies.sort((a, b) => a - b);
  const expected = sent * opened;
  console.log(
    `chat delivery to ${opened} sockets: ${sent} messages from ${senders.length} senders, ${received}/${expected} deliveries; latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1) ?? 0} ms (target p99 ≤ 1,000 ms)${errors.length ? `; sender errors: ${errors.slice(0, 3).join(" | ")}` : ""}`,
  );
  for (const [i, u] of under.entries())
    console.log(
      `${u.name} beside the idle sockets: ${idle[i]} req/s vs ${u.before} without (${Math.round((idle[i]! / Math.max(1, u.before)) * 100)}%)`,
    );
  for (const u of under)
    console.log(
      `${u.name} with the sockets open: ${u.row.rps} req/s vs ${u.before} without (${Math.round((u.row.rps / Math.max(1, u.before)) * 100)}%, target ≥ 90%), p99 ${u.row.p99} ms`,
    );
  for (const s of senders) s.terminate();
}
