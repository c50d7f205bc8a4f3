// Which embedded media node holds each stream, on the shared store: nodes register with a lease,
// rooms name their node in `stream_client` (nms:<node>:<session>), a node reconciles only its own
// streams, and the streams of a node whose lease ran out are stopped by whichever node notices.
import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/client";
import { mediaNodes, rooms } from "../db/schema";
import { env } from "../env";
import { log } from "../log";
import { streamStopped } from "./streams";

export interface MediaNode {
  id: string;
  flvOrigin: string;
  frontOrigin: string;
}

/** The stream client id an embedded node gives a publisher: the node, then its session. */
export const nodeClient = (nodeId: string, sessionId: string) => `nms:${nodeId}:${sessionId}`;
export const nodePrefix = (nodeId: string) => `nms:${nodeId}:`;
const nodeIdOf = (client: string | null) => /^nms:([0-9a-f-]{36}):/.exec(client ?? "")?.[1];

/** The addresses other instances reach this instance's node at (MEDIA_NODE_HOST). */
export function ownOrigins(): Omit<MediaNode, "id"> {
  const e = env();
  return {
    flvOrigin: `http://${e.MEDIA_NODE_HOST}:${e.mediaHttpPort}`,
    frontOrigin: `http://${e.MEDIA_NODE_HOST}:${e.PORT}`,
  };
}

/** Registers or renews a node's lease. */
export async function renewNode(db: Db, node: MediaNode, now: Date) {
  await db
    .insert(mediaNodes)
    .values({ ...node, startedAt: now, seenAt: now })
    .onDuplicateKeyUpdate({ set: { seenAt: now, flvOrigin: node.flvOrigin, frontOrigin: node.frontOrigin } });
}

export async function removeNode(db: Db, id: string) {
  await db.delete(mediaNodes).where(eq(mediaNodes.id, id));
}

const leaseCutoff = (now: Date) => new Date(now.getTime() - env().MEDIA_NODE_LEASE_S * 1000);

/** The live node that holds a stream now, if any. */
export async function nodeOfStream(db: Db, streamName: string, now: Date): Promise<MediaNode | undefined> {
  const row = (
    await db
      .select({ client: rooms.streamClient, online: rooms.streamOnline })
      .from(rooms)
      .where(eq(rooms.streamName, streamName))
  )[0];
  const id = row?.online ? nodeIdOf(row.client) : undefined;
  return id ? liveNode(db, id, now) : undefined;
}

/** Node `id`, while its lease holds. */
async function liveNode(db: Db, id: string, now: Date): Promise<MediaNode | undefined> {
  return (
    await db
      .select({ id: mediaNodes.id, flvOrigin: mediaNodes.flvOrigin, frontOrigin: mediaNodes.frontOrigin })
      .from(mediaNodes)
      .where(and(eq(mediaNodes.id, id), gte(mediaNodes.seenAt, leaseCutoff(now))))
  )[0];
}

/** Whether `client` (a publisher as an embedded node names it) is on a node other than `self` whose lease holds. */
export async function onAnotherLiveNode(db: Db, client: string, self: string, now: Date): Promise<boolean> {
  const id = nodeIdOf(client);
  return !!id && id !== self && !!(await liveNode(db, id, now));
}

/**
 * Streams marked online on a node whose lease ran out (the node died without stopping them):
 * stopped, so their rooms pause and later end as for any lost stream. Safe on every node.
 */
export async function stopStreamsOfLostNodes(db: Db, clock: Clock) {
  const now = clock.now();
  const onNodes = await db
    .select({ streamName: rooms.streamName, client: rooms.streamClient })
    .from(rooms)
    .where(and(eq(rooms.streamOnline, true), sql`${rooms.streamClient} LIKE 'nms:%'`));
  if (!onNodes.length) return;
  const alive = new Set(
    (
      await db
        .select({ id: mediaNodes.id })
        .from(mediaNodes)
        .where(gte(mediaNodes.seenAt, leaseCutoff(now)))
    ).map((n) => n.id),
  );
  for (const s of onNodes) {
    const id = nodeIdOf(s.client);
    if (id && alive.has(id)) continue;
    log.warn("stream of a lost media node stopped", { stream: s.streamName, node: id ?? "unknown" });
    await streamStopped(db, clock, s.streamName, s.client ?? undefined, "lease");
  }
}

/** Rows of nodes gone for an hour (the periodic sweeper, any instance). */
export async function pruneMediaNodes(db: DbOrTx, now: Date) {
  await db.delete(mediaNodes).where(lt(mediaNodes.seenAt, new Date(now.getTime() - 3600_000)));
}
