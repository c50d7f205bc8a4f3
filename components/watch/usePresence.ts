"use client";
// Being in a room: join (counts a visit, gives the presence token), heartbeat every 10 s with the
// running like total, and leave when the page goes.
import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { guestId } from "@/components/player/usePullUrls";

export function usePresence(room: string | number, active: boolean, onJoined?: () => void) {
  const trpc = useTRPC();
  const join = useMutation(trpc.presence.join.mutationOptions());
  const token = useRef<string>("");
  const [joined, setJoined] = useState<{ token: string; memberId: string }>();
  const likes = useRef(0);
  const beat = useCallback(() => {
    if (!token.current) return;
    void fetch("/api/presence/heartbeat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token.current, likes: likes.current }),
      keepalive: true,
    });
  }, []);
  // Joining reads the newest mutation and callback without making them reasons to join again.
  const joinRoom = useEffectEvent((r: string | number) => join.mutateAsync({ room: r, guestId: guestId() }));
  const afterJoin = useEffectEvent(() => onJoined?.());
  useEffect(() => {
    if (!active) return;
    let cancelled = false;
    joinRoom(room)
      .then((j) => {
        if (cancelled) return;
        token.current = j.presenceToken;
        setJoined({ token: j.presenceToken, memberId: j.memberId });
        afterJoin();
      })
      .catch(() => undefined);
    const timer = setInterval(beat, 10_000);
    const leave = () => {
      if (token.current)
        navigator.sendBeacon(
          "/api/presence/leave",
          new Blob([JSON.stringify({ token: token.current })], { type: "application/json" }),
        );
    };
    window.addEventListener("pagehide", leave);
    return () => {
      cancelled = true;
      clearInterval(timer);
      window.removeEventListener("pagehide", leave);
      leave();
    };
  }, [room, active, beat]);
  return {
    joined,
    /** Counts a like; `send` delivers the running total (on the room's socket), else the heartbeat does. */
    like: (send?: (total: number) => boolean) => {
      likes.current += 1;
      if (!send?.(likes.current)) beat();
      return likes.current;
    },
  };
}
