"use client";
// Fetches a room's pull URLs with a fresh play token and keeps them fresh: refetches before the
// token expires and polls the room's status so the player can tell the viewer what is going on.
import { useCallback, useEffect, useRef, useState } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { agrees, useSettle, type SeenStatus } from "@/components/live/settle";

/** What `media.pullUrls` answers, as it arrives over the wire (no transformer: dates are ISO strings). */
export type PullInfo = inferRouterOutputs<AppRouter>["media"]["pullUrls"];
export type PullErrorKind = "unauthorized" | "not_found" | "network";

export class PullError extends Error {
  readonly kind: PullErrorKind;
  constructor(kind: PullErrorKind, message: string) {
    super(message);
    this.name = "PullError";
    this.kind = kind;
  }
}

export function guestId(): string {
  try {
    const k = "onair.guestId";
    let id = localStorage.getItem(k);
    if (!id) {
      id = crypto.randomUUID();
      localStorage.setItem(k, id);
    }
    return id;
  } catch {
    return crypto.randomUUID();
  }
}

export async function fetchPullInfo(room: string | number): Promise<PullInfo> {
  const input = encodeURIComponent(JSON.stringify({ room, guestId: guestId() }));
  const r = await fetch(`/api/trpc/media.pullUrls?input=${input}`, { credentials: "include", cache: "no-store" });
  const body = (await r.json().catch(() => ({}))) as {
    result?: { data: PullInfo };
    error?: { message: string; data?: { appCode?: string } };
  };
  if (body.result) return body.result.data;
  const code = body.error?.data?.appCode;
  const kind: PullErrorKind =
    code === "DISABLED" || r.status === 401 || r.status === 403
      ? "unauthorized"
      : r.status === 404
        ? "not_found"
        : "network";
  throw new PullError(kind, body.error?.message ?? `HTTP ${r.status}`);
}

/**
 * Pull URLs with a token, kept fresh: the cheap room state (answered by the front, cached a second)
 * is polled; the URLs and token are fetched again only when the state changes or the token nears expiry.
 */
export function usePullUrls(room: string | number, pollMs = 4000) {
  const [info, setInfo] = useState<PullInfo>();
  const [error, setError] = useState<PullError>();
  const tokenRef = useRef<string>("");
  const current = useRef<PullInfo | undefined>(undefined);

  const load = useCallback(async (): Promise<PullInfo | undefined> => {
    try {
      const i = await fetchPullInfo(room);
      tokenRef.current = i.token;
      current.current = i;
      setInfo(i);
      setError(undefined);
      return i;
    } catch (e) {
      setError(e instanceof PullError ? e : new PullError("network", String(e)));
      return undefined;
    }
  }, [room]);
  const refresh = useCallback(async () => void (await load()), [load]);
  const settle = useSettle();
  /** A live event said the room is now `seen`: fetch at once, and again until the answer agrees. */
  const follow = useCallback(
    (seen: SeenStatus) => settle(async () => agrees((await load())?.room, seen)),
    [load, settle],
  );

  const poll = useCallback(async () => {
    const cur = current.current;
    if (!cur || new Date(cur.expiresAt).getTime() - Date.now() < 120_000) return refresh();
    try {
      const r = await fetch(`/api/rooms/state?room=${encodeURIComponent(String(room))}`, { cache: "no-store" });
      if (!r.ok) return refresh();
      const s = (await r.json()) as {
        status: PullInfo["room"]["status"];
        streamOnline: boolean;
        sourced: boolean;
        metrics: PullInfo["room"]["metrics"];
      };
      if (s.status !== cur.room.status || s.streamOnline !== cur.room.streamOnline || s.sourced !== cur.sourced)
        return refresh();
      const next = { ...cur, room: { ...cur.room, metrics: s.metrics } };
      current.current = next;
      setInfo(next);
      setError(undefined);
    } catch {
      setError(new PullError("network", "network"));
    }
  }, [room, refresh]);

  useEffect(() => {
    current.current = undefined;
    // The first fetch runs as a task of its own, like every poll after it: the effect only schedules.
    const first = setTimeout(() => void refresh(), 0);
    const t = setInterval(() => void poll(), pollMs);
    return () => {
      clearTimeout(first);
      clearInterval(t);
    };
  }, [refresh, poll, pollMs]);

  return { info, error, tokenRef, refresh, follow };
}
