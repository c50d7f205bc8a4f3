"use client";
// Watching a room: the player (FLV first, HLS selectable), title, host, notice, online count, likes,
// "request to co-host" for signed-in viewers, heartbeats every 10 s and leave on page close.
import Link from "next/link";
import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Player, type PlayerFormat } from "@/components/player/Player";
import { guestId, usePullUrls } from "@/components/player/usePullUrls";
import { Button, StatusBadge } from "@/components/ui";
import { LanguageSwitch } from "@/components/console/LanguageSwitch";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";

function usePresence(room: string | number, active: boolean, onJoined: () => void) {
  const trpc = useTRPC();
  const join = useMutation(trpc.presence.join.mutationOptions());
  const token = useRef<string>("");
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
  const joined = useEffectEvent(() => onJoined());
  useEffect(() => {
    if (!active) return;
    let cancelled = false;
    joinRoom(room)
      .then((j) => {
        if (cancelled) return;
        token.current = j.presenceToken;
        joined();
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
    like: () => {
      likes.current += 1;
      beat();
      return likes.current;
    },
  };
}

export function WatchRoom({ room }: { room: string | number }) {
  const t = useTranslations("watch");
  const trpc = useTRPC();
  const toast = useToast();
  const err = useErrorText();
  const [format, setFormat] = useState<PlayerFormat>("flv");
  const { info, refresh } = usePullUrls(room, 5000);
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { retry: false }));
  const active = !!info && info.room.status !== "ended";
  const presence = usePresence(room, active, () => void refresh());
  const [myLikes, setMyLikes] = useState(0);
  const [requested, setRequested] = useState(false);
  const request = useMutation(
    trpc.mic.request.mutationOptions({
      onSuccess: () => {
        setRequested(true);
        toast("success", t("requested"));
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  const r = info?.room;
  const totalLikes = Math.max(r?.metrics?.likes ?? 0, myLikes);

  return (
    <div className="min-h-screen">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2 dark:border-slate-800">
        <Link href="/" className="flex items-center gap-2 font-semibold">
          <span className="h-2.5 w-2.5 rounded-full bg-red-500" aria-hidden />
          onair
        </Link>
        <LanguageSwitch />
      </header>
      <main className="mx-auto grid max-w-6xl gap-6 p-4 lg:grid-cols-[2fr_1fr]">
        <div className="flex flex-col gap-3">
          <Player room={room} format={format} />
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="mr-auto text-xl font-semibold" data-testid="watch-title">
              {r?.title ?? "…"}
            </h1>
            {r && <StatusBadge status={r.status} />}
            <span className="text-sm text-slate-500" data-testid="online-count">
              {t("online", { count: r?.metrics?.online ?? 0 })}
            </span>
          </div>
          <div className="flex flex-wrap items-center gap-2">
            <Button data-testid="like" onClick={() => setMyLikes(presence.like())} disabled={!active}>
              ♥ {t("like")}
            </Button>
            <span className="text-sm text-slate-500" data-testid="likes">
              {t("liked", { count: totalLikes })}
            </span>
            <span className="mx-2 h-5 w-px bg-slate-200 dark:bg-slate-700" aria-hidden />
            {me.data ? (
              <Button
                variant="secondary"
                data-testid="request-mic"
                disabled={!active || requested || request.isPending || me.data.id === undefined}
                onClick={() => request.mutate({ room })}
              >
                {requested ? t("requested") : t("requestMic")}
              </Button>
            ) : (
              <Link href="/signin" className="text-sm text-blue-600 underline">
                {t("signInToCohost")}
              </Link>
            )}
            <label className="ml-auto flex items-center gap-2 text-sm">
              {t("format")}
              <select
                aria-label={t("format")}
                value={format}
                onChange={(e) => setFormat(e.target.value as PlayerFormat)}
                className="rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700"
              >
                <option value="flv">{t("flv")}</option>
                <option value="hls">{t("hls")}</option>
              </select>
            </label>
          </div>
        </div>
        <aside className="flex flex-col gap-3">
          <section className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
            <h2 className="text-sm font-semibold text-slate-500">{t("host")}</h2>
            <p className="text-lg">{r?.hostNick ?? "…"}</p>
            {r?.notice && (
              <>
                <h2 className="mt-3 text-sm font-semibold text-slate-500">{t("notice")}</h2>
                <p className="whitespace-pre-wrap">{r.notice}</p>
              </>
            )}
          </section>
        </aside>
      </main>
    </div>
  );
}
