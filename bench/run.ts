// `npm run bench`: brings up onair (front + web, real MariaDB) on loopback and measures, at 50
// connections for a bounded time each, req/s and p99 of: a bare node:http hello (the ceiling),
// heartbeats through the real endpoint, play-token verification over HTTP, and a room list page.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chromiumLaunch } from "../e2e/chromium";
import { liveH264Args, testSourceArgs } from "../server/media/ffmpeg";
import autocannon from "autocannon";
import { dropDatabase } from "../scripts/lib/mariadb";
import { freePort } from "../scripts/lib/ports";
import { loadSettings, provisionDatabase, root } from "../scripts/lib/prepare";

const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
/** `npm run bench -- --scale`: the 100,000-viewer presence scenario (bench/scale.ts) instead of the rows. */
const SCALE = process.argv.includes("--scale");

/**
 * Memory of a process tree from /proc: each process's RSS and PSS (its share of pages it shares,
 * so the sum is what the tree really costs), e.g. onair's processes and the MariaDB they use.
 */
function footprint(roots: number[]) {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const tree = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent)
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  const rows = [];
  for (const pid of tree) {
    try {
      const smaps = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(smaps)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const name = cmd
        .map((a) => a.split("/").slice(-2).join("/"))
        .join(" ")
        .slice(0, 60);
      rows.push({ pid, name, rssMiB: Math.round(kb("Rss") / 1024), pssMiB: Math.round(kb("Pss") / 1024) });
    } catch {
      /* gone or not ours */
    }
  }
  return rows;
}
function printFootprint(label: string, rows: ReturnType<typeof footprint>) {
  console.log(`\nmemory ${label}:`);
  for (const r of rows.sort((a, b) => b.pssMiB - a.pssMiB))
    console.log(`  ${String(r.pssMiB).padStart(5)} MiB PSS  ${String(r.rssMiB).padStart(5)} MiB RSS  ${r.name}`);
  const total = rows.reduce((s, r) => s + r.pssMiB, 0);
  console.log(`  ${String(total).padStart(5)} MiB PSS in all (target ≤ 400 MiB at idle, MariaDB included)`);
}
const CONNECTIONS = 50;

async function waitUp(url: string) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up`);
}

type Req = { method?: "GET" | "POST"; path: string; headers?: Record<string, string>; bodies?: string[] };
/** BENCH_ONLY=word,word: measure only the rows whose name holds one of them (the ceiling always). */
const ONLY = (process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
/** onair's front process, once it runs: its CPU time per answer is printed beside each row. */
let frontPid: number | undefined;
/** CPU time a process has used (user + system), in ms (/proc, clock ticks of 10 ms). */
function cpuMs(pid: number | undefined) {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}
async function measure(name: string, base: string, r: Req) {
  if (ONLY.length && !name.includes("ceiling") && !ONLY.some((w) => name.includes(w)))
    return { name, rps: 0, p99: 0, p50: 0, bad: 0 };
  let i = 0;
  const cpu0 = cpuMs(frontPid);
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: r.method ?? "GET",
        path: r.path,
        headers: r.headers,
        setupRequest: (req) => (r.bodies ? { ...req, body: r.bodies[i++ % r.bodies.length] } : req),
      },
    ],
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  const row = { name, rps: Math.round(result.requests.average), p99: result.latency.p99, p50: result.latency.p50, bad };
  // What an answer weighs (headers included), for the pages: their bytes are most of their cost.
  const kib = result.throughput.total / Math.max(1, result.requests.total) / 1024;
  // The front's CPU per answer (kernel time for its socket writes included): what a path costs,
  // whatever share of the two cores the load generator left it in this run.
  const frontUs = base.endsWith(`:${process.env.PORT}`)
    ? ((cpuMs(frontPid) - cpu0) * 1000) / Math.max(1, result.requests.total)
    : 0;
  console.log(
    `${name.padEnd(34)} ${String(row.rps).padStart(8)} req/s   p50 ${String(row.p50).padStart(4)} ms   p99 ${String(row.p99).padStart(4)} ms${frontUs ? `   front ${Math.round(frontUs)} µs CPU an answer` : ""}${kib >= 2 ? `   ${kib.toFixed(1)} KiB an answer` : ""}${bad ? `   (${bad} failed)` : ""}`,
  );
  return row;
}

const { dataDir } = loadSettings();
const dbName = `onair_bench_${process.pid}`;
const { url, priv } = await provisionDatabase(dataDir, dbName);
process.env.DATABASE_URL = url;
const children: ChildProcess[] = [];
const cleanup = async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((r) =>
          c.exitCode !== null || c.signalCode !== null ? r(null) : (c.once("exit", r), c.kill("SIGTERM")),
        ),
    ),
  );
  await dropDatabase(url);
  await priv?.stop();
};

try {
  // 1. The ceiling: bare node:http in its own process.
  const helloPort = await freePort();
  const hello = spawn(process.execPath, [
    "-e",
    `require("http").createServer((q,s)=>{s.writeHead(200,{"content-type":"text/plain"});s.end("hello")}).listen(${helloPort},"127.0.0.1")`,
  ]);
  children.push(hello);
  await waitUp(`http://127.0.0.1:${helloPort}/`);

  // 2. onair as `npm start` runs it, on its own database.
  const port = await freePort();
  // The bench process builds URLs with the same settings as the server it measures.
  Object.assign(process.env, {
    PORT: String(port),
    WEB_PORT: String(await freePort()),
    MEDIA_RTMP_PORT: String(await freePort()),
    MEDIA_HTTP_PORT: String(await freePort()),
    MEDIA_DIR: resolve(dataDir, `media-bench-${process.pid}`),
    LOG_LEVEL: "error",
    ADMIN_PASSWORD: "bench-admin-pass",
    // The login figure measures hashing, not the sign-in limits (which would answer 429 at once).
    LOGIN_ATTEMPTS_PER_ADDRESS: "1000000",
    LOGIN_FAILURES_PER_ACCOUNT: "1000000",
  });
  const app = spawn(process.execPath, [resolve(root, "scripts/launch.mjs")], {
    cwd: root,
    env: process.env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(app);
  const base = `http://127.0.0.1:${port}`;
  await waitUp(`${base}/api/health`);
  frontPid = footprint([app.pid!]).find((p) => p.name.includes("front"))?.pid;

  // Fixtures through the domain (same database).
  const { getDb } = await import("../server/db/client");
  const { systemClock } = await import("../server/clock");
  const { createApp } = await import("../server/apps");
  const { createUser, login } = await import("../server/accounts");
  const { createRoom, transitionRoom } = await import("../server/rooms");
  const { joinRoom } = await import("../server/presence");
  const { issueRoomToken } = await import("../server/tokens/issue");
  const db = getDb();
  const [adminRow] = (await db.execute(
    "SELECT id FROM users WHERE role='admin' AND app_id IS NULL LIMIT 1",
  )) as unknown as [Array<{ id: string }>];
  const root_ = { kind: "user" as const, userId: adminRow[0]!.id, role: "admin" as const, appId: null };
  const ctx = (actor: Parameters<typeof createApp>[0]["actor"]) => ({ db, clock: systemClock, actor });
  const a = await createApp(ctx(root_), { name: "bench", signScheme: "onair", sxbSign: false, signupRole: "host" });
  const mk = (role: "host" | "viewer", i: number) =>
    createUser(ctx(root_), {
      appId: a.app.id,
      username: `bench_${role}_${i}_${process.pid}`,
      password: "bench-pass-1",
      role,
    });
  const host = await mk("host", 0);
  const hostActor = { kind: "user" as const, userId: host.id, role: "host" as const, appId: a.app.id };
  const rooms: Array<Awaited<ReturnType<typeof createRoom>>> = [];
  for (let i = 0; i < 60; i++)
    rooms.push(await createRoom(ctx(hostActor), { title: `Bench room ${i}`, mode: 0, record: false }));
  await transitionRoom(ctx(hostActor), rooms[0]!.id, "start");
  const viewers = await Promise.all(Array.from({ length: 20 }, (_, i) => mk("viewer", i)));
  const presence: string[] = [];
  const play: string[] = [];
  for (const v of viewers) {
    const actor = { kind: "user" as const, userId: v.id, role: "viewer" as const, appId: a.app.id };
    presence.push((await joinRoom(ctx(actor), { room: rooms[0]!.id })).presenceToken);
    play.push((await issueRoomToken(ctx(actor), { room: rooms[0]!.id, scope: "play" })).token);
  }
  // 1,000 live rooms (the first is the one the viewers above are in), and 200 users signed in.
  const { openSession } = await import("../server/accounts");
  const { rooms: roomsTable, users: usersTable } = await import("../server/db/schema");
  const { eq, inArray } = await import("drizzle-orm");
  for (let i = rooms.length; i < 1000; i++)
    rooms.push(await createRoom(ctx(hostActor), { title: `Bench room ${i}`, mode: 0, record: false }));
  await db
    .update(roomsTable)
    .set({ status: "live", startedAt: new Date() })
    .where(
      inArray(
        roomsTable.num,
        rooms.map((r) => r.num),
      ),
    );
  const liveRooms = rooms;
  const sxbUsers = [...viewers];
  for (let i = sxbUsers.length; i < 200; i++) sxbUsers.push(await mk("viewer", i));
  const sxbTokens: string[] = [];
  for (const u of sxbUsers) {
    const row = (await db.select().from(usersTable).where(eq(usersTable.id, u.id)))[0]!;
    sxbTokens.push((await openSession(db, systemClock, row, "bench", "other")).accessToken);
  }
  const access = (
    await login(db, systemClock, {
      username: viewers[0]!.username,
      password: "bench-pass-1",
      deviceId: "bench",
      deviceType: "other",
    })
  ).accessToken;

  // onair's processes (npm start's tree) and the MariaDB this bench started for it.
  // The MariaDB serving onair's database, whoever started it (this bench, or an earlier run).
  const dbPort = new URL(url).port || "3306";
  const mariadbPids = () =>
    readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
          return /mariadbd|mysqld/.test(cmd) && cmd.includes(`--port=${dbPort}`);
        } catch {
          return false;
        }
      })
      .map(Number);
  const onairTree = () => footprint([app.pid!]).concat(footprint(mariadbPids()));
  await new Promise((r) => setTimeout(r, 3000));
  printFootprint("at idle", onairTree());

  if (SCALE) {
    const { runScale } = await import("./scale");
    const sampler = setTimeout(() => printFootprint("under the scale load", onairTree()), 60_000);
    await runScale({
      base,
      db,
      rooms: liveRooms.map((r) => ({ id: r.id, num: r.num, appId: a.app.id })),
      hostId: host.id,
      list: { sxbToken: sxbTokens[0]!, access, username: viewers[0]!.username },
      ceiling: `http://127.0.0.1:${helloPort}`,
      measure,
    });
    clearTimeout(sampler);
  } else {
    console.log(`\nonair bench: ${CONNECTIONS} connections, ${DURATION} s each, 127.0.0.1\n`);
    const rows = [];
    rows.push(await measure("bare node:http hello (ceiling)", `http://127.0.0.1:${helloPort}`, { path: "/" }));
    rows.push(
      await measure("heartbeat (front, real endpoint)", base, {
        method: "POST",
        path: "/api/presence/heartbeat",
        headers: { "content-type": "application/json" },
        bodies: presence.map((t, i) => JSON.stringify({ token: t, likes: i })),
      }),
    );
    rows.push(
      await measure("play-token verify (front, HTTP)", base, {
        path: `/api/tokens/verify?room=${rooms[0]!.id}&token=${play[0]}`,
      }),
    );
    const input = encodeURIComponent(JSON.stringify({ limit: 20 }));
    rows.push(
      await measure("room list page (tRPC, front)", base, {
        path: `/api/trpc/rooms.list?input=${input}`,
        headers: { authorization: `Bearer ${access}` },
      }),
    );
    const { streamName } = rooms[0]!;
    const hookBodies = play.map((t, i) =>
      JSON.stringify({
        action: "on_play",
        client_id: `c${i}`,
        ip: "127.0.0.1",
        vhost: "__defaultVhost__",
        app: "live",
        stream: streamName,
        param: `?token=${t}`,
        tcUrl: "rtmp://127.0.0.1/live",
        stream_url: `/live/${streamName}`,
        stream_id: "vid-1",
      }),
    );
    rows.push(
      await measure("SRS on_play hook (front)", base, {
        method: "POST",
        path: "/hooks/srs",
        headers: { "content-type": "application/json" },
        bodies: hookBodies,
      }),
    );
    // Vendor paths as the existing clients call them: 随心播 heartbeats with access tokens rotated over
    // 200 users, its room lists, and AUI's list, over 1,000 live rooms (see fixtures below).
    const vendorRows = [];
    let underLoad: ReturnType<typeof footprint> = [];
    const sampler = setTimeout(() => (underLoad = onairTree()), (DURATION * 1000) / 2);
    vendorRows.push(
      await measure("随心播 heartbeat (front)", base, {
        method: "POST",
        path: "/sxb/index.php?svc=live&cmd=heartbeat",
        headers: { "content-type": "application/json" },
        bodies: sxbTokens.map((token, i) =>
          JSON.stringify({ token, roomnum: liveRooms[i % liveRooms.length]!.num, role: 0, thumbup: i % 7 }),
        ),
      }),
    );
    clearTimeout(sampler);
    printFootprint("under the 随心播 heartbeat load", underLoad);
    console.log("");
    vendorRows.push(
      await measure("随心播 roomlist size 20 (front)", base, {
        method: "POST",
        path: "/sxb/index.php?svc=live&cmd=roomlist",
        headers: { "content-type": "application/json" },
        bodies: sxbTokens.map((token) => JSON.stringify({ token, type: "live", index: 0, size: 20 })),
      }),
    );
    vendorRows.push(
      await measure("随心播 roomidlist (front)", base, {
        method: "POST",
        path: "/sxb/index.php?svc=live&cmd=roomidlist",
        headers: { "content-type": "application/json" },
        bodies: sxbTokens.map((token) => JSON.stringify({ token, roomnum: rooms[0]!.num, index: 0, size: 20 })),
      }),
    );
    vendorRows.push(
      await measure("AUI list page_size 20 (front)", base, {
        method: "POST",
        path: "/api/v1/live/list",
        headers: { "content-type": "application/json", authorization: `Bearer ${access}` },
        bodies: [JSON.stringify({ user_id: viewers[0]!.username, page_num: 1, page_size: 20, status: 1 })],
      }),
    );
    // A login burst (随心播 clients, 200 accounts, from one address) and what it does to heartbeats.
    const [loginRow, beatDuringLogins] = await Promise.all([
      measure("随心播 login burst (front, argon2id)", base, {
        method: "POST",
        path: "/sxb/index.php?svc=account&cmd=login",
        headers: { "content-type": "application/json" },
        bodies: sxbUsers.map((u) => JSON.stringify({ id: u.username, pwd: "bench-pass-1" })),
      }),
      measure("heartbeat during the login burst", base, {
        method: "POST",
        path: "/api/presence/heartbeat",
        headers: { "content-type": "application/json" },
        bodies: presence.map((t, i) => JSON.stringify({ token: t, likes: i })),
      }),
    ]);
    const ceiling = rows[0]!.rps;
    console.log(`\nheartbeat: ${rows[1]!.rps} req/s (target ≥ 5,000), p99 ${rows[1]!.p99} ms (target ≤ 20)`);
    console.log(
      `token verify: ${Math.round((rows[2]!.rps / ceiling) * 100)}% of the bare ceiling (target ≥ 50%), p99 ${rows[2]!.p99} ms (target ≤ 20)`,
    );
    console.log(`SRS on_play hook: ${Math.round((rows[4]!.rps / ceiling) * 100)}% of the bare ceiling (target ≥ 50%)`);
    const sxbBeat = vendorRows[0]!;
    console.log(
      `随心播 heartbeat: ${Math.round((sxbBeat.rps / ceiling) * 100)}% of the bare ceiling (target ≥ 50%), p99 ${sxbBeat.p99} ms (target ≤ 20)`,
    );
    console.log(
      `login: ${loginRow.rps} logins/s (one address's sign-ins are hashed one after another), p99 ${loginRow.p99} ms; heartbeat p99 during the burst ${beatDuringLogins.p99} ms (target ≤ 20)`,
    );
    for (const r of vendorRows.slice(1).concat(rows[3]!))
      console.log(`${r.name}: ${r.rps} req/s over ${liveRooms.length} live rooms (target ≥ 5,000), p99 ${r.p99} ms`);

    if (!ONLY.length || ONLY.includes("socket")) {
      // 5,000 sockets in room 0, chat from 10 of its members, the hot paths again beside them.
      const { runSockets } = await import("./sockets");
      if (frontPid)
        await runSockets({
          base,
          roomId: rooms[0]!.id,
          senders: presence,
          frontPid,
          measure,
          hot: [
            {
              name: "heartbeat",
              req: {
                method: "POST",
                path: "/api/presence/heartbeat",
                headers: { "content-type": "application/json" },
                bodies: presence.map((t, i) => JSON.stringify({ token: t, likes: i })),
              },
            },
            {
              name: "play-token verify",
              req: { path: `/api/tokens/verify?room=${rooms[0]!.id}&token=${play[0]}` },
            },
          ],
        });
    }

    if (!ONLY.length || ONLY.includes("frame")) {
      // Time to first frame: a live push, then Chromium opens the embed player N times per format.
      const { getPushInfo } = await import("../server/media/access");
      const push = await getPushInfo(ctx(hostActor), rooms[0]!.id);
      const ff = spawn(
        "ffmpeg",
        [
          "-hide_banner",
          "-loglevel",
          "error",
          ...testSourceArgs("1280x720", 25),
          ...liveH264Args(25),
          "-c:a",
          "aac",
          "-f",
          "flv",
          push.rtmp_url,
        ],
        { stdio: "ignore" },
      );
      children.push(ff);
      await new Promise((r) => setTimeout(r, 5000));
      const { chromium } = await import("@playwright/test");
      const browser = await chromium.launch(chromiumLaunch);
      for (const format of ["flv", "hls"] as const) {
        const samples: number[] = [];
        for (let i = 0; i < 5; i++) {
          const page = await browser.newPage();
          await page.goto(`${base}/embed/${rooms[0]!.id}?format=${format}`);
          const v = await page
            .waitForFunction(() => document.querySelector("video")?.dataset.ttffMs, undefined, { timeout: 20_000 })
            .catch(async (e) => {
              throw new Error(
                `${format} never played: ${await page.locator("[data-player-state]").getAttribute("data-player-state")} (${(e as Error).message})`,
              );
            });
          samples.push(Number(await v.jsonValue()));
          await page.close();
        }
        samples.sort((a, b) => a - b);
        const target = format === "flv" ? 1000 : 4000;
        console.log(
          `${format.toUpperCase()} time to first frame: median ${samples[2]} ms, max ${samples[4]} ms over 5 starts (target ≤ ${target} ms)`,
        );
      }
      await browser.close();
    }
  }
  const { closeDb } = await import("../server/db/client");
  await closeDb();
} finally {
  await cleanup();
}
process.exit(0);
