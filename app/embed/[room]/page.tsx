// The player alone, for an <iframe>: /embed/<room id or number>?format=flv|hls
import { Player } from "@/components/player/Player";

export const dynamic = "force-dynamic";

export default async function Embed({
  params,
  searchParams,
}: {
  params: Promise<{ room: string }>;
  searchParams: Promise<{ format?: string }>;
}) {
  const { room } = await params;
  const { format } = await searchParams;
  const ref = /^\d+$/.test(room) ? Number(room) : room;
  return (
    <main className="flex min-h-screen items-center justify-center bg-black">
      <Player room={ref} format={format === "hls" ? "hls" : "flv"} />
    </main>
  );
}
