// The viewer's page: /watch/<room id or number>. Open to visitors who are not signed in.
// An unknown room answers 404 (not a player that waits forever); the look-up tells nothing else.
import { notFound } from "next/navigation";
import { WatchRoom } from "@/components/watch/WatchRoom";
import { getDb } from "@/server/db/client";
import { AppError } from "@/server/errors";
import { findPublicRoom, roomRef, type RoomRef } from "@/server/rooms/find";

export const dynamic = "force-dynamic";

async function exists(ref: RoomRef) {
  try {
    await findPublicRoom(getDb(), ref);
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === "NOT_FOUND") return false;
    throw e;
  }
}

export default async function Watch({ params }: { params: Promise<{ room: string }> }) {
  const { room } = await params;
  const parsed = roomRef.safeParse(/^\d+$/.test(room) ? Number(room) : room);
  if (!parsed.success || !(await exists(parsed.data))) notFound();
  return <WatchRoom room={parsed.data} />;
}
