// Room events at scale (issue 12): 5,000 WebSockets in one room on this machine, one chat message a
// second from 10 senders in turn, delivery latency to every socket (p50/p99), the front's memory per
// socket, and the hot paths measured again while the sockets are open and the chat flows.
// Sockets come from 20 loopback addresses (250 each), as real viewers come from many, and live in a
// process of their own (bench/socket-clients.ts).
import { fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import WebSocket from "ws";
import { lowerPriority } from "../server/priority";

type Measure = (
  name: string,
  base: string,
  r: { method?: "GET" | "POST"; path: string; headers?: Record<string, string>; bodies?: string[] },
) => Promise<{ name: string; rps: number; p99: number; p50: number; bad: number; frontUs: number }>;

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 5000);
const ADDRESSES = 20;

function rssKiB(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
}

/** The front's events worker (server/front/events-worker.ts), once it runs: 0 before. */
function eventsWorkerOf(frontPid: number) {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]!.split(" ");
      if (
        Number(stat[1]) === frontPid &&
        readFileSync(`/proc/${d}/environ`, "utf8").includes("ONAIR_FRONT_ROLE=events")
      )
        return Number(d);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return 0;
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Share of one core `pid` uses over `ms`. */
async function cpuShare(pid: number, ms: number) {
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000);
}

function percentile(sorted: number[], p: number) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ROUNDS = Number(process.env.BENCH_SOCKET_ROUNDS ?? 8);
function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : s.length ? Math.round(((s[m - 1]! + s[m]!) / 2) * 1000) / 1000 : 0;
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
}) {
  const wsBase = opts.base.replace(/^http/, "ws") + "/api/rooms/events";
  const clients = fork(new URL("./socket-clients.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // A session of its own, so that its priority holds against every other process (server/priority.ts).
    detached: true,
  });
  // The 5,000 viewers stand for devices on other machines: on this one they share the two cores with
  // the server they measure, so they run at the lowest priority. While the load generator keeps
  // both cores busy they wait for it, and so do the deliveries they time: the latency figure is
  // taken from messages sent while nothing else runs, and the one under load is printed beside it.
  const lowered = lowerPriority(clients.pid!, 19);
  if (lowered) console.log(`(the listening clients compete at full priority: ${lowered})`);
  const ask = <T>(msg: unknown) =>
    new Promise<T>((resolve) => {
      clients.once("message", (r) => resolve(r as T));
      clients.send(msg as object);
    });
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // On two cores the hot paths' figures move by a quarter from one measurement to the next (the load
  // generator, MariaDB and the clients share them, and this VM has slow spells of a minute or so):
  // rounds alternate without and with the sockets, and medians are compared.
  type Row = Awaited<ReturnType<Measure>>;
  const without: Row[][] = opts.hot.map(() => []);
  const withSockets: Row[][] = opts.hot.map(() => []);
  const latencies: number[] = [];
  const loadedLatencies: number[] = [];
  /** When the hot paths were measured beside the chat (ms since the epoch, start and end). */
  const loaded: Array<[number, number]> = [];
  let sent = 0;
  let received = 0;
  let opened = 0;
  const errors: string[] = [];
  // The first measurement of a run is the slowest (code not yet optimised, MariaDB still settling
  // after the seeding): one round of each, not counted.
  for (const h of opts.hot) await opts.measure(`${h.name} (warm-up, no sockets)`, opts.base, h.req);
  const measureWithout = async () => {
    for (const [i, h] of opts.hot.entries())
      without[i]!.push(await opts.measure(`${h.name} (no sockets)`, opts.base, h.req));
  };
  // The sockets opened, chat flowing, the hot paths measured beside them, and all closed.
  const withSocketsRound = async (round: number) => {
    if (round === 1) {
      // The front starts its events worker with the first socket: started here with one socket (and
      // that closed), so that the memory before the 5,000 is that of both processes at rest.
      const deadline = Date.now() + 10_000;
      while (!eventsWorkerOf(opts.frontPid) && Date.now() < deadline) {
        const ws = new WebSocket(`${wsBase}?room=${opts.roomId}`);
        await new Promise((r) => (ws.once("message", r), ws.once("error", r)));
        ws.terminate();
        await pause(200);
      }
      await pause(2000);
    }
    const worker0 = eventsWorkerOf(opts.frontPid);
    const rssBefore = rssKiB(opts.frontPid) + (worker0 ? rssKiB(worker0) : 0);
    const t0 = Date.now();
    const r = await ask<{ opened: number; refused: number }>({
      open: { url: `${wsBase}?room=${opts.roomId}`, count: SOCKETS, addresses: ADDRESSES },
    });
    opened = r.opened;
    const connectS = (Date.now() - t0) / 1000;
    await pause(2000);
    // The front hands sockets to its events worker (EVENTS_WORKER=1) once that is up: both count.
    const worker = eventsWorkerOf(opts.frontPid);
    const pids = [opts.frontPid, ...(worker ? [worker] : [])];
    if (round === 1) {
      const rssAfter = pids.reduce((n, pid) => n + rssKiB(pid), 0);
      console.log(
        `\nroom events: ${opened} sockets open in one room in ${connectS.toFixed(1)} s (${r.refused} refused); front${worker ? " and its events worker" : ""} RSS ${Math.round(rssBefore / 1024)} → ${Math.round(rssAfter / 1024)} MiB, ${((rssAfter - rssBefore) / Math.max(1, opened)).toFixed(1)} KiB per socket`,
      );
    }
    if (round === 1) {
      const idle = await Promise.all(pids.map((pid) => cpuShare(pid, 5000)));
      console.log(
        `idle sockets cost: ${idle.map((c, i) => `${i ? "events worker" : "front"} ${(c * 100).toFixed(1)}%`).join(", ")} of a core`,
      );
    }
    // Senders: members with presence tokens, on sockets of their own; one message a second from them in
    // turn (each sends one in 10 s: within the default per-member rate, CHAT_RATE_COUNT in CHAT_RATE_WINDOW_S).
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
    for (const s of senders)
      s.on("message", (d) => {
        const t = Buffer.from(d as Buffer).toString("utf8");
        if (t.includes('"type":"error"')) errors.push(t.slice(0, 120));
      });
    let sentNow = 0;
    const chat = setInterval(() => {
      const s = senders[sentNow % senders.length]!;
      s.send(JSON.stringify({ type: "chat", text: `bench ${Date.now()} 你好 🎉` }));
      sentNow++;
    }, 1000);
    // Chat with nothing else running: these deliveries make the latency figure.
    await pause(round === 1 ? 2000 : 6000);
    if (round === 1) {
      // What the fan-out itself costs the front (and the listening clients) with nothing else running:
      // a figure that does not depend on the load generator sharing the two cores.
      const [clientCpu = 0, ...serverCpu] = await Promise.all(
        [clients.pid!, ...pids].map((pid) => cpuShare(pid, 8000)),
      );
      console.log(
        `chat fan-out cost: ${serverCpu.map((c, i) => `${i ? "events worker" : "front"} ${(c * 100).toFixed(1)}%`).join(", ")} of a core, listening clients ${(clientCpu * 100).toFixed(1)}% (one message a second to ${opened} sockets, no other load)`,
      );
    }
    for (const [i, h] of opts.hot.entries()) {
      const from = Date.now();
      withSockets[i]!.push(await opts.measure(`${h.name} + sockets and chat`, opts.base, h.req));
      loaded.push([from, Date.now()]);
    }
    clearInterval(chat);
    await pause(1500);
    const report = await ask<{ received: number; sentAt: number[]; latencies: number[] }>({ report: true });
    report.latencies.forEach((l, k) => {
      const at = report.sentAt[k]!;
      (loaded.some(([a, b]) => at >= a - 1000 && at <= b) ? loadedLatencies : latencies).push(l);
    });
    received += report.received;
    sent += sentNow;
    for (const s of senders) s.terminate();
    await pause(2000);
  };
  // Rounds in turn without-with and with-without (ABBA): a drift of the machine's speed within a
  // round counts against one side as often as against the other.
  for (let round = 1; round <= ROUNDS; round++) {
    if (round % 2) {
      await measureWithout();
      await pause(1000);
      await withSocketsRound(round);
    } else {
      await withSocketsRound(round);
      await measureWithout();
    }
  }
  clients.kill();
  latencies.sort((a, b) => a - b);
  loadedLatencies.sort((a, b) => a - b);
  const expected = sent * opened;
  console.log(
    `chat delivery to ${opened} sockets: ${sent} messages (one a second from 10 senders) over ${ROUNDS} rounds, ${received}/${expected} deliveries; latency with nothing else running (${latencies.length} deliveries) p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1) ?? 0} ms (target p99 ≤ 1,000 ms)${errors.length ? `; sender errors: ${errors.slice(0, 3).join(" | ")}` : ""}`,
  );
  console.log(
    `chat delivery while the hot paths are measured beside it (${loadedLatencies.length} deliveries; the listening clients, at the lowest priority, wait for the load generator): p50 ${percentile(loadedLatencies, 50)} ms, p99 ${percentile(loadedLatencies, 99)} ms, max ${loadedLatencies.at(-1) ?? 0} ms`,
  );
  // Two views of the same rounds: the medians of each side, and the median of each round's own
  // ratio (its two measurements are seconds apart, so a slow spell of the machine that spans both
  // cancels out, where it would drag one side's median). And a third that slow spells do not move:
  // the share of a core the front had (answers a second × its CPU per answer). In a slow spell an
  // answer costs more CPU and fewer are answered, and that product stays; what the sockets' work
  // takes from the front shows in it.
  const share = (r: Row) => (r.rps * r.frontUs) / 1e6;
  for (const [i, h] of opts.hot.entries()) {
    const w0 = without[i]!;
    const w1 = withSockets[i]!;
    const a = median(w0.map((r) => r.rps));
    const b = median(w1.map((r) => r.rps));
    const paired = median(w1.map((w, k) => w.rps / Math.max(1, w0[k]!.rps)));
    console.log(
      `${h.name} with the sockets and chat: median ${b} req/s vs ${a} without (${Math.round((b / Math.max(1, a)) * 100)}%), median of each round's ratio ${Math.round(paired * 100)}% (target ≥ 90%); rounds without ${w0.map((r) => r.rps).join(", ")}, with ${w1.map((r) => r.rps).join(", ")}`,
    );
    const s0 = median(w0.map(share));
    const s1 = median(w1.map(share));
    console.log(
      `  the front's share of a core answering it: ${s1.toFixed(2)} with the sockets vs ${s0.toFixed(2)} without (${Math.round((s1 / Math.max(0.001, s0)) * 100)}%); its CPU per answer ${median(w1.map((r) => r.frontUs)).toFixed(0)} µs vs ${median(w0.map((r) => r.frontUs)).toFixed(0)} µs`,
    );
  }
}
