// A free loopback port, for tests, benchmarks and journeys that start their own onair.
//
// Ports are taken below the kernel's ephemeral range (where the kernel never hands out the local
// port of an outgoing connection), each process from its own block: a port picked here and only
// listened on seconds later (after a console build, say) is not meanwhile taken by a client socket
// or by a parallel test worker. CI saw "listen 127.0.0.1:39159 EADDRINUSE" from the kernel's pick.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const BLOCK = 128;

function range(): [number, number] {
  let low = 32768;
  let high = 60999;
  try {
    [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number) as [
      number,
      number,
    ];
  } catch {
    /* not Linux: the usual defaults */
  }
  if (low - 10_000 >= 8_192) return [10_000, low - 1];
  if (65_535 - high >= 8_192) return [high + 1, 65_535];
  return [1_024, 65_535]; // no room outside it: fall back to anywhere free
}

const [lowest, highest] = range();
const blocks = Math.floor((highest - lowest + 1) / BLOCK);
// Concurrent workers (Vitest's pool id, Playwright's worker index) get blocks ten apart (a worker
// that uses up its block goes on into the next ones); anything else spreads by its pid.
const workerId = process.env.VITEST_POOL_ID ?? process.env.TEST_PARALLEL_INDEX;
const block = workerId !== undefined ? (Number(workerId) * 10) % blocks : process.pid % blocks;
let next = 0;

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < BLOCK * 4; tries++) {
    const b = (block + Math.floor(next / BLOCK)) % blocks;
    const port = lowest + b * BLOCK + (next % BLOCK);
    next++;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port between ${lowest} and ${highest}`);
}
