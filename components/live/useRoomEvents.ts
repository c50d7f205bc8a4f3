"use client";
// A room's live events for a page: a WebSocket to the front (/api/rooms/events), Server-Sent Events
// when sockets fail, and nothing (the pages' polling goes on) when both do. Reconnects resume from
// the last event id, so nothing is missed or shown twice. Chat is sent on the socket (or POSTed
// when on SSE); likes go on the socket as the member's running total.
import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import type { ChatMessageView } from "@/server/chat";

/** A chat message as the server sends it (server/chat: removed ones carry deletedAt/By for moderators). */
export type ChatMessage = ChatMessageView;
/** Polling intervals: the fallback's pace, and the safety net's while events arrive on a socket. */
export const POLL_FALLBACK_MS = 4000;
export const POLL_WITH_EVENTS_MS = 30_000;
export const isLive = (t: Transport) => t === "ws" || t === "sse";

/** A line the room's chat shows that nobody typed (a member muted). */
export type ChatNotice = { key: string; at: number; kind: "muted" | "unmuted"; nick: string; memberId: string };
export type Figures = { online: number; likes: number; pv: number; uv: number };
export type LiveStatus = { status: string; streamOnline: boolean; graceEndsAt: number | null };
export type RoomInfo = { title: string; notice: string; chatSlowS: number; guestChat: boolean };
export type Me = {
  memberId: string | null;
  manager: boolean;
  guest: boolean;
  canChat: boolean;
  canLike: boolean;
  mutedUntil: number | null;
};
export type MicEvent = { move: string; userId?: string; state?: string | null; nick?: string; members?: string[] };
export type Transport = "connecting" | "ws" | "sse" | "poll";
/** Why the server refused a chat message (its error code and details: until, retryAfterS, max…). */
export class ChatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

type Frame = { type: string; id?: number; ref?: number | string; [k: string]: unknown };
const MAX_MESSAGES = 200;

export interface RoomEventsOptions {
  /** The presence token from joining (identifies the member); the console session cookie goes along anyway. */
  token?: string;
  /** Connect at all (e.g. once joined). */
  enabled?: boolean;
  onMic?: (e: MicEvent) => void;
  onStatus?: (s: LiveStatus) => void;
  onKicked?: (memberId: string) => void;
  onRoom?: (r: RoomInfo) => void;
  /** A publish to the room was refused (managers only hear it): the go-live panel lists it. */
  onRefused?: () => void;
  /** The transport changed (a page slows its polling while events arrive). */
  onTransport?: (t: Transport) => void;
}

export function useRoomEvents(room: string | number, opts: RoomEventsOptions = {}) {
  const { token, enabled = true } = opts;
  const [transport, setTransport] = useState<Transport>("connecting");
  const [me, setMe] = useState<Me>();
  const [status, setStatus] = useState<LiveStatus>();
  const [info, setInfo] = useState<RoomInfo>();
  const [figures, setFigures] = useState<Figures>();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [notices, setNotices] = useState<ChatNotice[]>([]);
  const [kicked, setKicked] = useState(false);
  const [mutedUntil, setMutedUntil] = useState<number | null>(null);
  const wsRef = useRef<WebSocket | null>(null);
  const pending = useRef(new Map<number, { ok: () => void; fail: (e: ChatError) => void }>());
  const refs = useRef(0);
  const lastId = useRef<number | undefined>(undefined);
  const meRef = useRef<Me | undefined>(undefined);

  const onMic = useEffectEvent((e: MicEvent) => opts.onMic?.(e));
  const onStatus = useEffectEvent((s: LiveStatus) => opts.onStatus?.(s));
  const onKicked = useEffectEvent((m: string) => opts.onKicked?.(m));
  const onRoom = useEffectEvent((r: RoomInfo) => opts.onRoom?.(r));
  const onRefused = useEffectEvent(() => opts.onRefused?.());
  const changeTransport = useEffectEvent((t: Transport) => {
    setTransport(t);
    opts.onTransport?.(t);
  });

  const handle = useEffectEvent((f: Frame) => {
    if (typeof f.id === "number" && f.type !== "sent") lastId.current = Math.max(lastId.current ?? 0, f.id);
    switch (f.type) {
      case "hello": {
        const m = f.me as Me;
        meRef.current = m;
        setMe(m);
        setMutedUntil(m.mutedUntil);
        const s = {
          status: f.status as string,
          streamOnline: !!f.streamOnline,
          graceEndsAt: f.graceEndsAt as number | null,
        };
        setStatus(s);
        const r = f.room as RoomInfo;
        setInfo(r);
        setFigures(f.figures as Figures);
        if (Array.isArray(f.history)) setMessages(f.history as ChatMessage[]);
        if (lastId.current === undefined || f.reset) lastId.current = Number(f.lastId);
        onStatus(s);
        break;
      }
      case "status": {
        const s = {
          status: f.status as string,
          streamOnline: !!f.streamOnline,
          graceEndsAt: f.graceEndsAt as number | null,
        };
        setStatus(s);
        onStatus(s);
        break;
      }
      case "room": {
        const r = { title: f.title, notice: f.notice, chatSlowS: f.chatSlowS, guestChat: f.guestChat } as RoomInfo;
        setInfo((prev) => ({
          ...(prev ?? r),
          ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)),
        }));
        onRoom(r);
        break;
      }
      case "publish.refused":
        onRefused();
        break;
      case "figures":
        setFigures({ online: Number(f.online), likes: Number(f.likes), pv: Number(f.pv), uv: Number(f.uv) });
        break;
      case "chat": {
        const m = f.message as ChatMessage;
        setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m].slice(-MAX_MESSAGES)));
        break;
      }
      case "chat.deleted": {
        const id = Number(f.messageId);
        if (meRef.current?.manager)
          setMessages((list) =>
            list.map((x) => (x.id === id ? { ...x, deletedAt: f.at as number, deletedBy: f.by as string } : x)),
          );
        else setMessages((list) => list.filter((x) => x.id !== id));
        break;
      }
      case "chat.muted":
        if (f.memberId === meRef.current?.memberId) setMutedUntil((f.until as number | null) ?? null);
        setNotices((list) =>
          [
            ...list,
            {
              key: `e${f.id}`,
              at: Number(f.at),
              kind: f.until ? ("muted" as const) : ("unmuted" as const),
              nick: typeof f.nick === "string" ? f.nick : "",
              memberId: String(f.memberId),
            },
          ].slice(-20),
        );
        break;
      case "mic":
        onMic(f as unknown as MicEvent);
        break;
      case "kicked":
        if (f.memberId === meRef.current?.memberId) setKicked(true);
        onKicked(String(f.memberId));
        break;
      case "sent":
      case "error": {
        const ref = Number(f.ref);
        const p = pending.current.get(ref);
        if (!p) break;
        pending.current.delete(ref);
        if (f.type === "sent") p.ok();
        else p.fail(new ChatError(String(f.code), String(f.message), f.details as Record<string, unknown>));
        break;
      }
    }
  });

  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sse: EventSource | undefined;
    const url = (proto: "ws" | "http") => {
      const q = new URLSearchParams({ room: String(room) });
      if (token) q.set("token", token);
      if (lastId.current !== undefined) q.set("since", String(lastId.current));
      const base = `${location.protocol === "https:" ? `${proto}s` : proto}://${location.host}`;
      return `${base}/api/rooms/events?${q.toString()}`;
    };
    const startSse = () => {
      if (stopped || typeof EventSource === "undefined") return changeTransport("poll");
      sse = new EventSource(url("http"), { withCredentials: true });
      sse.onopen = () => changeTransport("sse");
      sse.onmessage = (m) => handle(JSON.parse(m.data as string) as Frame);
      sse.addEventListener("close", (m) => {
        const c = JSON.parse((m as MessageEvent<string>).data) as { code: number };
        if (c.code === 4403) sse?.close();
      });
      sse.onerror = () => {
        if (sse?.readyState === EventSource.CLOSED) changeTransport("poll");
      };
    };
    const connect = () => {
      if (stopped) return;
      let opened = false;
      const ws = new WebSocket(url("ws"));
      wsRef.current = ws;
      ws.onopen = () => {
        opened = true;
        failures = 0;
        changeTransport("ws");
      };
      ws.onmessage = (m) => handle(JSON.parse(m.data as string) as Frame);
      ws.onclose = (c) => {
        wsRef.current = null;
        for (const p of pending.current.values()) p.fail(new ChatError("UNAVAILABLE", "disconnected"));
        pending.current.clear();
        if (stopped || c.code === 4403 || c.code === 4404) return;
        if (!opened && ++failures >= 2) return startSse();
        changeTransport("connecting");
        // Back off, then resume from the last id (the server said so with 1013 for a slow socket).
        timer = setTimeout(connect, Math.min(10_000, 500 * 2 ** Math.min(failures, 5)));
        failures++;
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      wsRef.current?.close();
      sse?.close();
    };
  }, [room, token, enabled]);

  // A mute lifts by itself when its time comes.
  useEffect(() => {
    if (mutedUntil === null) return;
    const timer = setTimeout(() => setMutedUntil(null), Math.max(0, mutedUntil - Date.now()));
    return () => clearTimeout(timer);
  }, [mutedUntil]);

  /** Sends a chat message; rejects with the server's error (muted, slow mode, too long…). */
  const send = useCallback(
    (text: string, nick?: string): Promise<void> => {
      const ws = wsRef.current;
      if (ws && ws.readyState === WebSocket.OPEN) {
        const ref = ++refs.current;
        return new Promise((ok, fail) => {
          pending.current.set(ref, { ok, fail });
          ws.send(JSON.stringify({ type: "chat", text, nick, ref }));
        });
      }
      return fetch("/api/rooms/chat", {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ room, token, text, nick }),
      }).then(async (r) => {
        if (r.ok) return;
        const b = (await r.json().catch(() => ({}))) as {
          error?: { code: string; message: string; details?: Record<string, unknown> };
        };
        throw new ChatError(b.error?.code ?? "INTERNAL", b.error?.message ?? `HTTP ${r.status}`, b.error?.details);
      });
    },
    [room, token],
  );

  /** Sends the member's running like total on the socket; false when there is none (use the heartbeat). */
  const like = useCallback((total: number) => {
    const ws = wsRef.current;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type: "like", total }));
    return true;
  }, []);

  return { transport, me, status, info, figures, messages, notices, kicked, mutedUntil, send, like };
}
