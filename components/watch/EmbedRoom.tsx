"use client";
// The embeddable player (/embed/<room>), with the room's chat beside it when asked (?chat=1). The
// player follows the room's live events: a status change shows at once, a kick stops it. Once the
// room has ended, its recording plays in the frame (as on the watch page), its chat in step with it.
import { useRef, useState } from "react";
import { Player, type PlayerFormat } from "@/components/player/Player";
import { ChatPanel } from "@/components/live/ChatPanel";
import { isLive, POLL_FALLBACK_MS, POLL_WITH_EVENTS_MS, useRoomEvents } from "@/components/live/useRoomEvents";
import { usePresence } from "./usePresence";
import { useContinuation } from "./useContinuation";
import { Replay } from "./Replay";
import { ReplayChat, type ReplayPart } from "./ReplayChat";

export function EmbedRoom({ room, format, chat }: { room: string | number; format: PlayerFormat; chat: boolean }) {
  const presence = usePresence(room, chat);
  // An ended room that went live again: the frame follows the broadcast, with the same options.
  const [ended, setEnded] = useState(false);
  const live = useRoomEvents(room, {
    token: presence.joined?.token,
    // An ended room is not joined; its socket still brings the chat log (read-only) and the status.
    enabled: !chat || !!presence.joined || ended,
  });
  const pollMs = isLive(live.transport) ? POLL_WITH_EVENTS_MS : POLL_FALLBACK_MS;
  // Ended: said by the player, or by the room's events first (the replay may take the player's place).
  const over = ended || live.status?.status === "ended";
  useContinuation(room, over, (id) => `/embed/${id}?format=${format}${chat ? "&chat=1" : ""}`);
  const player = (
    <Player
      room={room}
      format={format}
      status={live.status}
      removed={live.kicked}
      pollMs={pollMs}
      onStateChange={(s) => setEnded(s === "ended")}
    />
  );
  const video = useRef<HTMLVideoElement>(null);
  const [replaying, setReplaying] = useState<ReplayPart | null>(null);
  const shown = over ? <Replay room={room} otherwise={player} video={video} onPart={setReplaying} /> : player;
  if (!chat) return <main className="flex min-h-screen items-center justify-center bg-black">{shown}</main>;
  return (
    <main className="grid min-h-screen gap-2 bg-black p-2 md:grid-cols-[1fr_20rem]">
      <div className="flex items-center">{shown}</div>
      {over && replaying ? (
        <ReplayChat key={replaying.id} room={room} part={replaying} video={video} className="h-[calc(100vh-1rem)]" />
      ) : (
        <ChatPanel room={room} live={live} className="h-[calc(100vh-1rem)]" />
      )}
    </main>
  );
}
