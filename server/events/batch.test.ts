// Room events held a moment in big rooms so that one write carries several (server/events/hub.ts),
// and the frames the front writes for them straight to the connection (server/front/events.ts).
import { describe, expect, it } from "vitest";
import type { Writable } from "node:stream";
import * as wsModule from "ws";
import { wsTextFrame } from "../front/events";
import { getDb } from "../db/client";
import { batchWindowMs, EventHub, type Delivery } from "./hub";
import type { RoomEvent } from "./types";

const ev = (id: number, roomNum = 7): RoomEvent => ({
  id,
  roomNum,
  type: "chat",
  audience: "",
  payload: { text: `m${id}` },
  at: Date.now(),
});

describe("batching", () => {
  it("the window grows with the sockets a front holds, within its bound, and is nothing for small rooms", () => {
    expect(batchWindowMs(5000, 10_000, 500)).toBe(500);
    expect(batchWindowMs(1000, 10_000, 500)).toBe(100);
    expect(batchWindowMs(5, 10_000, 500)).toBe(0);
    expect(batchWindowMs(50_000, 10_000, 500)).toBe(500);
  });

  it("a room's events within a window of its last write reach every listener as one batch, in order", async () => {
    const hub = new EventHub(getDb(), { pollMs: 60_000, writesPerS: 1000, batchMaxMs: 500 });
    const got: Array<readonly Delivery[]> = [];
    const stops = Array.from({ length: 100 }, () => hub.listen(7, { deliver: (b) => got.push(b) }));
    const other: Array<readonly Delivery[]> = [];
    stops.push(hub.listen(8, { deliver: (b) => other.push(b) }));
    // The first goes at once; what follows within the window (101 listeners at 1,000 writes a
    // second: 101 ms) waits and goes out together.
    hub.receive(ev(1));
    expect(got).toHaveLength(100);
    const from = Date.now();
    hub.receive(ev(5));
    hub.receive(ev(3)); // a late commit of a lower id still goes out
    hub.receive(ev(5)); // and nothing twice
    hub.receive(ev(4, 8)); // another room's first: at once
    expect(got).toHaveLength(100);
    expect(other.map((b) => b.map((d) => d.ev?.id))).toEqual([[4]]);
    while (got.length < 200 && Date.now() - from < 1000) await new Promise((r) => setTimeout(r, 5));
    expect(Date.now() - from).toBeGreaterThanOrEqual(90);
    expect(got).toHaveLength(200);
    expect(new Set(got.slice(100)).size).toBe(1); // the same array for all: encoded once
    expect(got[100]!.map((d) => d.ev?.id)).toEqual([5, 3]);
    for (const s of stops) s();
    hub.stop();
  });

  it("figures wait a figures period after the room's last write and ride with the next event; a quiet room gets them at once", async () => {
    const hub = new EventHub(getDb(), { pollMs: 60_000, writesPerS: 1000, batchMaxMs: 500, figuresMs: 300 });
    const got: Array<readonly Delivery[]> = [];
    const stops = [hub.listen(7, { deliver: (b) => got.push(b) })];
    const quiet: Array<readonly Delivery[]> = [];
    stops.push(hub.listen(8, { deliver: (b) => quiet.push(b) }));
    const figures = (likes: number) => ({ online: 1, likes, pv: 1, uv: 1 });
    hub.receive(ev(21));
    expect(got).toHaveLength(1);
    hub.offerFigures(7, figures(1));
    expect(got).toHaveLength(1); // held: the room was written to just now
    await new Promise((r) => setTimeout(r, 50));
    hub.receive(ev(22)); // past the batch window (2 listeners: 2 ms): goes at once, the figures with it
    expect(got).toHaveLength(2);
    expect(got[1]!.map((d) => d.ev?.id ?? `likes ${d.figures!.likes}`)).toEqual(["likes 1", 22]);
    hub.offerFigures(7, figures(1)); // unchanged: nothing
    hub.offerFigures(7, figures(2));
    const from = Date.now();
    while (got.length < 3 && Date.now() - from < 2000) await new Promise((r) => setTimeout(r, 5));
    expect(Date.now() - from).toBeGreaterThanOrEqual(250); // alone, a figures period after the last write
    expect(got[2]!.map((d) => d.figures?.likes)).toEqual([2]);
    hub.offerFigures(8, figures(5));
    expect(quiet.map((b) => b.map((d) => d.figures?.likes))).toEqual([[5]]);
    for (const s of stops) s();
    hub.stop();
  });

  it("without a write budget every event goes out at once", () => {
    const hub = new EventHub(getDb(), { pollMs: 60_000 });
    const got: number[] = [];
    const stop = hub.listen(9, { deliver: (b) => got.push(...b.map((d) => d.ev!.id)) });
    hub.receive(ev(11, 9));
    expect(got).toEqual([11]);
    stop();
  });
});

// ws's frame parser (what every ws client runs), which its types do not declare.
const { Receiver } = wsModule as unknown as {
  Receiver: new (o: { isServer: boolean }) => Writable;
};

describe("frames written for the batches", () => {
  it("are WebSocket text frames a client reads, at every length encoding", async () => {
    const sizes = [0, 125, 126, 65_535, 65_536, 200_000];
    const texts = sizes.map((n) => "x".repeat(n));
    const received: string[] = [];
    const r = new Receiver({ isServer: false });
    r.on("message", (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(false);
      received.push(data.toString());
    });
    await new Promise<void>((resolve, reject) => {
      r.on("error", reject);
      r.write(Buffer.concat(texts.map((t) => wsTextFrame(Buffer.from(t)))), () => resolve());
    });
    expect(received.map((t) => t.length)).toEqual(sizes);
  });
});
