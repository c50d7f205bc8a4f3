// What hello says is at least as new as the event id it starts from. A socket's room is looked up
// when it connects; if hello then carried that look-up's state with a newer lastId, a change
// committed in between (the stream coming up while the hub started) was in neither hello nor the
// events after it, and the viewer saw "starting soon" until the page's next poll. The hub here is
// held at its start, the change is made meanwhile, and hello or the event after it must say so.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { systemClock } from "../clock";
import { EventHub } from "../events/hub";
import { PresenceBuffer } from "../presence/buffer";
import { streamStarted } from "../media/streams";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { freePort } from "../../test/process";
import { openEvents, type EventClient } from "../../test/ws";
import { createRoomEvents } from "./events";

class HeldHub extends EventHub {
  release!: () => void;
  private held = new Promise<void>((r) => (this.release = r));
  override async start() {
    await this.held;
    return super.start();
  }
}

let t: Tenant;
let server: http.Server;
let hub: HeldHub;
let events: ReturnType<typeof createRoomEvents>;
let wsBase: string;
const opened: EventClient[] = [];

beforeAll(async () => {
  t = await makeTenant();
  hub = new HeldHub(getDb(), { pollMs: 100 });
  events = createRoomEvents({ clock: systemClock, buffer: new PresenceBuffer(), hub });
  server = http.createServer((_req, res) => res.end());
  server.on("upgrade", (req, socket, head) =>
    events.upgrade(req, socket, head, new URL(req.url ?? "/", "http://x").searchParams),
  );
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  wsBase = `ws://127.0.0.1:${port}/api/rooms/events`;
});
afterAll(async () => {
  for (const c of opened) c.ws.terminate();
  events?.close();
  await new Promise((r) => server?.close(r));
});

describe("hello", () => {
  it("reflects a change committed while the socket was being set up", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: uniq("hello") });
    await host.rooms.start({ room: r.id });
    const room = await host.rooms.get({ room: r.id });
    expect(room.streamOnline).toBe(false);
    const { presenceToken } = await callerOf(t.viewer).presence.join({ room: r.id });

    const c = await openEvents(`${wsBase}?room=${r.id}&token=${presenceToken}`);
    opened.push(c);
    // The socket is up and its room looked up; hello waits for the hub. The encoder connects now.
    await new Promise((res) => setTimeout(res, 200));
    expect(c.frames).toHaveLength(0);
    await streamStarted(getDb(), systemClock, room.streamName, "test-client", { trusted: true });
    hub.release();

    const hello = await c.next((f) => f.type === "hello");
    const said = hello.streamOnline
      ? true
      : (await c.next((f) => f.type === "status", 2000).catch(() => undefined))?.streamOnline;
    expect(said).toBe(true);
  });
});
