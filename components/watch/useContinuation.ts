"use client";
// An ended room's viewers follow its broadcast to the room it went live again in: while `active`
// (the room has ended), its pull info is looked at every few seconds; once the continuation is on
// air the page moves there by itself (the server redirects new visitors the same way).
import { useEffect, useState } from "react";
import { useRouter } from "next/navigation";
import { fetchPullInfo, type PullInfo } from "@/components/player/usePullUrls";

export type Continuation = NonNullable<PullInfo["continuedIn"]>;
export const onAir = (c: Continuation | null | undefined) => c?.status === "live" || c?.status === "paused";
const EVERY_MS = 4000;

export function useContinuation(room: string | number, active: boolean, to: (id: string) => string) {
  const router = useRouter();
  const [next, setNext] = useState<Continuation | null>(null);
  useEffect(() => {
    if (!active) return;
    let stop = false;
    const look = async () => {
      const info = await fetchPullInfo(room).catch(() => undefined);
      if (stop || !info) return;
      setNext(info.continuedIn);
      if (onAir(info.continuedIn)) router.replace(to(info.continuedIn!.id));
    };
    const first = setTimeout(() => void look(), 0);
    const t = setInterval(() => void look(), EVERY_MS);
    return () => {
      stop = true;
      clearTimeout(first);
      clearInterval(t);
    };
    // `to` is a path builder the caller writes inline: the room and `active` decide when to look.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [room, active, router]);
  return next;
}
