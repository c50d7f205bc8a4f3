// The viewer's page: /watch/<room id or number>. Open to visitors who are not signed in.
import { WatchRoom } from "@/components/watch/WatchRoom";

export const dynamic = "force-dynamic";

export default async function Watch({ params }: { params: Promise<{ room: string }> }) {
  const { room } = await params;
  return <WatchRoom room={/^\d+$/.test(room) ? Number(room) : room} />;
}
