// The viewer's page: /watch/<room id or number>. Open to visitors who are not signed in.
// An unknown room answers 404 (not a player that waits forever); the look-up tells nothing else.
// An ended room that went live again sends its viewers on to the new broadcast while it is on air.
import { notFound, redirect } from "next/navigation";
import { WatchRoom } from "@/components/watch/WatchRoom";
import { getDb } from "@/server/db/client";
import { roomRef } from "@/server/rooms/find";
import { watchTarget } from "@/server/rooms/again";

export const dynamic = "force-dynamic";

export default async function Watch({ params }: { params: Promise<{ room: string }> }) {
  const { room } = await params;
  const parsed = roomRef.safeParse(/^\d+$/.test(room) ? Number(room) : room);
  const target = parsed.success ? await watchTarget(getDb(), parsed.data) : null;
  if (!parsed.success || !target) notFound();
  if (target.leadTo) redirect(`/watch/${target.leadTo.id}`);
  return <WatchRoom room={parsed.data} />;
}
