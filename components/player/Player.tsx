"use client";
// The player building block: plays a room's stream with flv.js (default, lowest latency) or
// hls.js, with a fresh play token, reconnects on stalls and errors, and tells the viewer what is
// happening: waiting for the host, live, paused, ended, not authorized, network lost.
import { useEffect, useEffectEvent, useRef, useState } from "react";
import { useTranslations } from "next-intl";
import type { RoomStatus } from "@/lib/domain";
import { usePullUrls, type PullErrorKind } from "./usePullUrls";
import type { SeenStatus } from "@/components/live/settle";

export type PlayerFormat = "flv" | "hls";
/**
 * What the viewer is told: the room's status once it started, or why nothing plays. "starting": the
 * host pressed Start but no encoder is pushing yet (the room is live, its stream is not).
 */
export type PlayerState =
  "loading" | "waiting" | "starting" | "dropped" | "removed" | Exclude<RoomStatus, "prepare"> | PullErrorKind;

const HINTS: Partial<
  Record<
    PlayerState,
    "waitingHint" | "startingHint" | "pausedHint" | "droppedHint" | "unauthorizedHint" | "networkHint" | "removedHint"
  >
> = {
  waiting: "waitingHint",
  starting: "startingHint",
  paused: "pausedHint",
  dropped: "droppedHint",
  unauthorized: "unauthorizedHint",
  network: "networkHint",
  removed: "removedHint",
};

interface Props {
  room: string | number;
  format?: PlayerFormat;
  muted?: boolean;
  className?: string;
  onStateChange?: (s: PlayerState) => void;
  /**
   * The room's status as its live events last said it (a new object for each event): the player
   * looks again at once, and until what it reads agrees.
   */
  status?: SeenStatus;
  /** The viewer was removed from the room: playback stops at once. */
  removed?: boolean;
  /** How often the room's state is polled (slower while live events arrive on a socket). */
  pollMs?: number;
}

type Engine = { destroy: () => void };

export function Player({
  room,
  format = "flv",
  muted = true,
  className,
  onStateChange,
  status,
  removed,
  pollMs = 4000,
}: Props) {
  const video = useRef<HTMLVideoElement>(null);
  const { info, error, tokenRef, refresh, follow } = usePullUrls(room, pollMs);
  const [playing, setPlaying] = useState(false);
  /** Whether the video is muted now (autoplay starts muted; the viewer's unmute or controls change it). */
  const [silent, setSilent] = useState(muted);
  const [attempt, setAttempt] = useState(0);
  const roomStatus = info?.room.status;
  const online = info?.room.streamOnline ?? false;
  // A room a source feeds is pulled when someone plays it: the player plays it whatever its status
  // says (until it ends); other rooms play once their encoder is on.
  const sourced = info?.sourced ?? false;
  const shouldPlay = !removed && (sourced ? !!roomStatus && roomStatus !== "ended" : roomStatus === "live" && online);

  const state: PlayerState = removed
    ? "removed"
    : error
      ? error.kind
      : !info
        ? "loading"
        : roomStatus === "ended"
          ? "ended"
          : shouldPlay
            ? playing
              ? "live"
              : "loading"
            : roomStatus === "paused"
              ? info.room.autoPaused
                ? "dropped"
                : "paused"
              : roomStatus === "live" && !online && !removed
                ? "starting"
                : "waiting";

  useEffect(() => onStateChange?.(state), [state, onStateChange]);

  // (Re)attach the engine whenever the stream should play, the format changes, or a retry is due.
  const url = info ? (format === "hls" ? info.urls.hls_url : info.urls.flv_url) : undefined;
  const streamKey = shouldPlay && url ? url.split("?")[0] : undefined;
  // The URL (with the newest token) is read when the engine starts: it changes with every token
  // refresh, which must not restart playback, so it is not a dependency of the effect below.
  const currentUrl = useEffectEvent(() => url);
  useEffect(() => {
    const el = video.current;
    const src = currentUrl();
    if (!el || !streamKey || !src) return;
    let engine: Engine | undefined;
    let cancelled = false;
    let lastTime = -1;
    let stalledFor = 0;
    const retry = () => {
      if (cancelled) return;
      cancelled = true;
      setPlaying(false);
      setTimeout(() => setAttempt((a) => a + 1), 1000);
    };
    // Time to first frame, from the moment the engine starts loading (exposed for benchmarks).
    const startedAt = performance.now();
    const onPlaying = () => {
      setPlaying(true);
      if (!el.dataset.ttffMs) el.dataset.ttffMs = String(Math.round(performance.now() - startedAt));
    };
    el.addEventListener("playing", onPlaying);
    const onVolume = () => setSilent(el.muted);
    el.addEventListener("volumechange", onVolume);
    // A stall watchdog: no progress for 6 s while it should be live means reconnect.
    const watchdog = setInterval(() => {
      if (el.paused && el.readyState < 2) return;
      if (el.currentTime === lastTime) {
        stalledFor += 1;
        if (stalledFor >= 6) retry();
      } else {
        stalledFor = 0;
        lastTime = el.currentTime;
      }
    }, 1000);

    (async () => {
      if (format === "flv") {
        const flvjs = (await import("flv.js")).default;
        if (cancelled) return;
        if (!flvjs.isSupported()) return retry();
        const p = flvjs.createPlayer(
          { type: "flv", isLive: true, url: src },
          { enableStashBuffer: false, lazyLoad: false, autoCleanupSourceBuffer: true },
        );
        p.attachMediaElement(el);
        p.on(flvjs.Events.ERROR, retry);
        p.load();
        engine = { destroy: () => (p.pause(), p.unload(), p.detachMediaElement(), p.destroy()) };
      } else {
        const Hls = (await import("hls.js")).default;
        if (cancelled) return;
        if (Hls.isSupported()) {
          // Every playlist and segment request carries the newest token, so refreshes apply at once.
          const h = new Hls({
            lowLatencyMode: true,
            liveSyncDurationCount: 2,
            xhrSetup: (xhr, u) => {
              const t = `token=${tokenRef.current}`;
              xhr.open(
                "GET",
                /[?&]token=/.test(u) ? u.replace(/token=[^&]*/, t) : `${u}${u.includes("?") ? "&" : "?"}${t}`,
                true,
              );
            },
          });
          h.on(Hls.Events.ERROR, (_e, d) => d.fatal && retry());
          h.loadSource(src);
          h.attachMedia(el);
          engine = { destroy: () => h.destroy() };
        } else {
          el.src = src;
        }
      }
      el.muted = muted;
      setSilent(muted);
      el.play().catch(() => undefined);
    })().catch(retry);

    return () => {
      cancelled = true;
      clearInterval(watchdog);
      el.removeEventListener("playing", onPlaying);
      el.removeEventListener("volumechange", onVolume);
      engine?.destroy();
      setPlaying(false);
    };
  }, [streamKey, format, attempt, muted, tokenRef]);

  // A live event said the room changed (status, stream): fetch its state now instead of at the next poll.
  const look = useEffectEvent((s: SeenStatus) => follow(s));
  useEffect(() => {
    if (status) look(status);
  }, [status]);

  // A network error on the pull-info request is retried by the poller; also retry now and then.
  useEffect(() => {
    if (state !== "network") return;
    const t = setTimeout(() => void refresh(), 2000);
    return () => clearTimeout(t);
  }, [state, refresh]);

  const t = useTranslations("player");
  const hint = HINTS[state];
  return (
    <div
      className={`relative aspect-video w-full overflow-hidden rounded-lg bg-black ${className ?? ""}`}
      data-player-state={state}
    >
      <video
        ref={video}
        className="h-full w-full"
        playsInline
        muted={muted}
        controls={state === "live"}
        aria-label="Live stream"
      />
      {state !== "live" && (
        <div
          className="absolute inset-0 flex flex-col items-center justify-center gap-2 bg-black/70 p-4 text-center text-white"
          role="status"
        >
          <p className="text-lg font-medium">{t(state)}</p>
          {hint && <p className="text-sm text-white/70">{t(hint)}</p>}
        </div>
      )}
      {state === "live" && silent && (
        <button
          type="button"
          data-testid="unmute"
          className="absolute bottom-14 left-1/2 flex -translate-x-1/2 items-center gap-2 rounded-full bg-black/75 px-4 py-2 text-sm font-medium text-white shadow-lg hover:bg-black/90 focus:outline-none focus-visible:ring-2 focus-visible:ring-white"
          onClick={() => {
            const el = video.current;
            if (!el) return;
            el.muted = false;
            if (el.volume === 0) el.volume = 1;
            setSilent(false);
            el.play().catch(() => undefined);
          }}
        >
          <span aria-hidden>🔇</span>
          {t("unmute")}
        </button>
      )}
      {state === "live" && (
        <span className="pointer-events-none absolute left-3 top-3 rounded bg-red-600 px-2 py-0.5 text-xs font-semibold uppercase tracking-wide text-white">
          {t("live")}
        </span>
      )}
    </div>
  );
}
