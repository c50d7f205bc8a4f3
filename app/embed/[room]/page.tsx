// The player alone, for an <iframe>: /embed/<room id or number>?format=flv|hls, and ?chat=1 for the
// room's chat beside it.
import { EmbedRoom } from "@/components/watch/EmbedRoom";

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
  const ref = /^\d+$/.test(room) ? Number(room) : room;
  return <EmbedRoom room={ref} format={format === "hls" ? "hls" : "flv"} chat={chat === "1"} />;
}
