// The player alone, for an <iframe>: /embed/<room id or number>?format=flv|hls, and ?chat=1 for the
// room's chat beside it. An unknown room answers 404 "Room not found", as /watch does; an ended room
// that went live again sends the frame on to the new broadcast (same options) while it is on air.
import { notFound, redirect } from "next/navigation";
import { EmbedRoom } from "@/components/watch/EmbedRoom";
import { getDb } from "@/server/db/client";
import { roomRef } from "@/server/rooms/find";
import { watchTarget } from "@/server/rooms/again";

export const dynamic = "force-dynamic";

export default async function Embed({
  params,
  searchParams,
}: {
  params: Promise<{ room: string }>;
  searchParams: Promise<{ format?: string; chat?: string }>;
}) {
  const { room } = await params;
  const { format, chat } = await searchParams;
  const parsed = roomRef.safeParse(/^\d+$/.test(room) ? Number(room) : room);
  const target = parsed.success ? await watchTarget(getDb(), parsed.data) : null;
  if (!parsed.success || !target) notFound();
  const fmt = format === "hls" ? "hls" : "flv";
  if (target.leadTo) redirect(`/embed/${target.leadTo.id}?format=${fmt}${chat === "1" ? "&chat=1" : ""}`);
  return <EmbedRoom room={parsed.data} format={fmt} chat={chat === "1"} />;
}
