"use client";
// Fetches a room's pull URLs with a fresh play token and keeps them fresh: refetches before the
// token expires and polls the room's status so the player can tell the viewer what is going on.
import { useCallback, useEffect, useRef, useState } from "react";

export interface PullInfo {
  room: {
    id: string;
    num: number;
    title: string;
    hostNick: string;
    notice: string;
    coverUrl: string;
    status: "prepare" | "live" | "paused" | "ended";
    streamOnline: boolean;
    metrics?: { online: number; likes: number; pv: number; uv: number };
  };
  token: string;
  expiresAt: string;
  urls: { flv_url: string; hls_url: string; rtmp_url: string };
}
export type PullError = { kind: "unauthorized" | "not_found" | "network"; message: string };

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
  const err: PullError = {
    kind: r.status === 404 ? "not_found" : r.status === 401 || r.status === 403 ? "unauthorized" : "network",
    message: body.error?.message ?? `HTTP ${r.status}`,
  };
  if (code === "DISABLED") err.kind = "unauthorized";
  throw err;
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

  const refresh = useCallback(async () => {
    try {
      const i = await fetchPullInfo(room);
      tokenRef.current = i.token;
      current.current = i;
      setInfo(i);
      setError(undefined);
    } catch (e) {
      setError((e as PullError).kind ? (e as PullError) : { kind: "network", message: String(e) });
    }
  }, [room]);

  const poll = useCallback(async () => {
    const cur = current.current;
    if (!cur || new Date(cur.expiresAt).getTime() - Date.now() < 120_000) return refresh();
    try {
      const r = await fetch(`/api/rooms/state?room=${encodeURIComponent(String(room))}`, { cache: "no-store" });
      if (!r.ok) return refresh();
      const s = (await r.json()) as {
        status: PullInfo["room"]["status"];
        streamOnline: boolean;
        metrics: PullInfo["room"]["metrics"];
      };
      if (s.status !== cur.room.status || s.streamOnline !== cur.room.streamOnline) return refresh();
      const next = { ...cur, room: { ...cur.room, metrics: s.metrics } };
      current.current = next;
      setInfo(next);
      setError(undefined);
    } catch {
      setError({ kind: "network", message: "network" });
    }
  }, [room, refresh]);

  useEffect(() => {
    current.current = undefined;
    void refresh();
    const t = setInterval(() => void poll(), pollMs);
    return () => clearInterval(t);
  }, [refresh, poll, pollMs]);

  return { info, error, tokenRef, refresh };
}
