"use client";
// One room, for its host (go-live panel) and for admins (room detail): push credentials, controls,
// a live preview, audience figures and chart, stream health, members, the co-host queue and recordings.
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import QRCode from "qrcode";
import { useTRPC } from "@/lib/trpc";
import { Player } from "@/components/player/Player";
import { Button, Card, CopyButton, Empty, ErrorBox, Loading, Stat, StatusBadge } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import type { Role, RoomStatus } from "@/lib/domain";
import { useErrorText } from "@/lib/errors";
import { fmtBytes, fmtDuration, fmtTime } from "@/lib/format";
import { audienceChart } from "@/lib/chart";
import { isLive, useRoomEvents } from "@/components/live/useRoomEvents";
import { ChatPanel } from "@/components/live/ChatPanel";
import { agrees, useSettle } from "@/components/live/settle";
import { ChatSettings } from "@/components/live/ChatSettings";
import { useCountdown } from "@/components/live/useCountdown";
import { SourcePanel } from "./SourcePanel";
import { TimeChart } from "./TimeChart";
import { StreamHealth } from "./StreamHealth";
import { DownloadRecording } from "./DownloadRecording";
import { GoLiveAgain } from "./GoLiveAgain";
import { GraceSetting } from "./GraceSetting";
import { RefusedPushes } from "./RefusedPushes";

const MASK = "•".repeat(16);

/**
 * A push credential with its copy button. With `secret`, that part of the value (the stream key) is
 * masked until "Show" is pressed (as Owncast and IVS do); copying always copies the real value, which
 * `data-value` also holds.
 */
function Secretish({
  label,
  value,
  testId,
  secret,
}: {
  label: string;
  value: string;
  testId: string;
  secret?: string;
}) {
  const tc = useTranslations("common");
  const [shown, setShown] = useState(false);
  const masked = !!secret && !shown;
  return (
    <div className="flex flex-col gap-1">
      <span className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</span>
      <div className="flex items-center gap-2">
        <code
          className="min-w-0 flex-1 break-all rounded bg-slate-100 px-2 py-1.5 text-sm dark:bg-slate-800"
          data-testid={testId}
          data-value={value}
          data-masked={masked || undefined}
        >
          {masked ? value.split(secret).join(MASK) : value}
        </code>
        {secret && (
          <Button
            type="button"
            variant="ghost"
            aria-label={`${shown ? tc("hide") : tc("show")} ${label}`}
            aria-pressed={shown}
            onClick={() => setShown(!shown)}
          >
            {shown ? tc("hide") : tc("show")}
          </Button>
        )}
        <CopyButton value={value} label={label} />
      </div>
    </div>
  );
}

function GoLive({ room }: { room: string }) {
  const t = useTranslations("golive");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const push = useQuery(trpc.media.pushInfo.queryOptions({ room }));
  const [qr, setQr] = useState<string>();
  useEffect(() => {
    if (push.data) void QRCode.toDataURL(push.data.rtmp_url, { margin: 1, width: 160 }).then(setQr);
  }, [push.data]);
  const rotate = useMutation(
    trpc.media.rotateKey.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.media.pushInfo.queryKey() }),
      onError: (e) => toast("error", err(e)),
    }),
  );
  if (push.error) return <ErrorBox message={err(push.error)} />;
  if (!push.data) return <Loading />;
  return (
    <div className="grid gap-4 md:grid-cols-[1fr_auto]">
      <div className="flex flex-col gap-3">
        <Secretish label={t("server")} value={push.data.server} testId="push-server" />
        <Secretish label={t("streamKey")} value={push.data.streamKey} testId="push-key" secret={push.data.streamKey} />
        <Secretish label={t("fullUrl")} value={push.data.rtmp_url} testId="push-url" secret={push.data.streamKey} />
        <p className="text-xs text-slate-500">{t("obsHint")}</p>
        <p className="text-xs text-slate-500">{t("polyvHint")}</p>
        <Secretish label={t("polyvChannel")} value={String(push.data.channelId)} testId="polyv-channel" />
        <Secretish
          label={t("polyvPassword")}
          value={push.data.channelPassword}
          testId="polyv-password"
          secret={push.data.channelPassword}
        />
        <div>
          <Button variant="ghost" onClick={() => confirm(t("rotateConfirm")) && rotate.mutate({ room })}>
            {t("rotateKey")}
          </Button>
        </div>
      </div>
      <figure className="flex flex-col items-center gap-1">
        {qr ? (
          <img src={qr} alt={t("qr")} width={160} height={160} className="rounded bg-white p-1" />
        ) : (
          <div className="h-40 w-40" />
        )}
        <figcaption className="text-xs text-slate-500">{t("qr")}</figcaption>
      </figure>
    </div>
  );
}

export function RoomPanel({ room, as }: { room: string; as: Extract<Role, "host" | "admin"> }) {
  const t = useTranslations("golive");
  const tr = useTranslations("rooms");
  const trec = useTranslations("recordings");
  const tc = useTranslations("common");
  const locale = useLocale();
  const router = useRouter();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const settle = useSettle();
  const settleKick = useSettle();
  // The room's live events: the host sees requests, kicks and status the moment they happen.
  const live = useRoomEvents(room, {
    onMic: () => {
      void qc.invalidateQueries({ queryKey: trpc.mic.requests.queryKey() });
      void qc.invalidateQueries({ queryKey: trpc.mic.meetingInfo.queryKey() });
    },
    // Until the list no longer holds the member (another instance's kick shows within a second).
    onKicked: (memberId) =>
      settleKick(async () => {
        const key = trpc.presence.members.queryKey({ room, limit: 100 });
        await qc.refetchQueries({ queryKey: key });
        return !qc.getQueryData(key)?.items.some((m) => m.memberId === memberId);
      }),
    // Fetched again until the answer agrees with the event (reads are shared for a second: settle.ts).
    onStatus: (s) =>
      settle(async () => {
        const key = trpc.rooms.get.queryKey({ room });
        await qc.refetchQueries({ queryKey: key });
        return agrees(qc.getQueryData(key), s);
      }),
    onRefused: () => void qc.invalidateQueries({ queryKey: trpc.media.refusals.queryKey() }),
  });
  // Polled as a safety net while the socket delivers, at the fallback's pace when it cannot.
  const every = (ms: number) => (isLive(live.transport) ? Math.max(ms, 15_000) : ms);
  const info = useQuery(trpc.rooms.get.queryOptions({ room }, { refetchInterval: every(2000) }));
  const members = useQuery(trpc.presence.members.queryOptions({ room, limit: 100 }, { refetchInterval: every(3000) }));
  const requests = useQuery(trpc.mic.requests.queryOptions({ room }, { refetchInterval: every(2000) }));
  const meeting = useQuery(trpc.mic.meetingInfo.queryOptions({ room }, { refetchInterval: every(2000) }));
  const samples = useQuery(trpc.rooms.samples.queryOptions({ room }, { refetchInterval: 10000 }));
  const recs = useQuery(trpc.recordings.list.queryOptions({ room, limit: 50 }, { refetchInterval: 5000 }));
  const [playing, setPlaying] = useState<string>();
  const vod = useQuery(
    trpc.media.vodUrl.queryOptions({ id: playing ?? "00000000-0000-0000-0000-000000000000" }, { enabled: !!playing }),
  );
  const invalidate = () => qc.invalidateQueries();
  const graceLeft = useCountdown(live.status?.graceEndsAt);
  const onError = (e: unknown) => toast("error", err(e));
  const opts = { onSuccess: invalidate, onError };
  const start = useMutation(trpc.rooms.start.mutationOptions(opts));
  const pause = useMutation(trpc.rooms.pause.mutationOptions(opts));
  const resume = useMutation(trpc.rooms.resume.mutationOptions(opts));
  const stop = useMutation(trpc.rooms.stop.mutationOptions(opts));
  const del = useMutation(
    trpc.rooms.delete.mutationOptions({
      onSuccess: () => {
        toast("success", tr("deleted"));
        router.push(as === "admin" ? "/admin/rooms" : "/host");
      },
      onError,
    }),
  );
  const kick = useMutation(trpc.presence.kick.mutationOptions(opts));
  const approve = useMutation(trpc.mic.approve.mutationOptions(opts));
  const reject = useMutation(trpc.mic.reject.mutationOptions(opts));
  const endMic = useMutation(trpc.mic.end.mutationOptions(opts));
  const delRec = useMutation(trpc.recordings.delete.mutationOptions(opts));

  if (info.error) return <ErrorBox message={err(info.error)} />;
  if (!info.data) return <Loading />;
  // The room's socket says its status first: a refetch right after an event may read a room cached
  // for up to a second by the web process (a change made by the media process, server/cache.ts).
  const r = live.status
    ? { ...info.data, status: live.status.status as RoomStatus, streamOnline: live.status.streamOnline }
    : info.data;
  const m = live.figures ?? r.metrics ?? { online: 0, likes: 0, pv: 0, uv: 0 };
  const embed = `<iframe src="${typeof window === "undefined" ? "" : window.location.origin}/embed/${r.id}" width="640" height="360" allow="autoplay; fullscreen" style="border:0"></iframe>`;
  const chart = audienceChart(samples.data ?? [], r, locale);

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1
          className="line-clamp-2 min-w-0 max-w-full text-2xl font-semibold [overflow-wrap:anywhere]"
          data-testid="room-title"
          title={r.title}
        >
          {r.title}
        </h1>
        <span data-testid="room-status">
          <StatusBadge status={r.status} />
        </span>
        <span
          className={`text-sm ${r.streamOnline ? "text-emerald-600" : "text-slate-500"}`}
          data-testid="stream-online"
        >
          ● {r.streamOnline ? t("streamOnline") : t("streamOffline")}
        </span>
        <span className="text-sm text-slate-500">#{r.num}</span>
        {graceLeft !== null && (
          <span
            className="rounded-md bg-amber-50 px-2 py-1 text-sm font-medium text-amber-800 dark:bg-amber-950 dark:text-amber-200"
            role="status"
            data-testid="grace"
          >
            {t("graceCountdown", { s: graceLeft })}
          </span>
        )}
        <div className="ml-auto flex flex-wrap gap-2">
          {as === "host" && r.status === "prepare" && (
            <Button onClick={() => start.mutate({ room })}>{t("start")}</Button>
          )}
          {r.status === "live" && (
            <Button variant="secondary" onClick={() => pause.mutate({ room })}>
              {t("pause")}
            </Button>
          )}
          {r.status === "paused" && (
            <Button variant="secondary" onClick={() => resume.mutate({ room })}>
              {t("resume")}
            </Button>
          )}
          {r.status !== "ended" && (
            <Button
              variant="danger"
              data-testid="stop-room"
              onClick={() => confirm(as === "admin" ? tr("stopConfirm") : t("stopConfirm")) && stop.mutate({ room })}
            >
              {as === "admin" ? tr("forceStop") : t("stop")}
            </Button>
          )}
          {r.status === "ended" && (
            <GoLiveAgain
              room={r.id}
              successor={r.successorId && r.successorNum ? { id: r.successorId, num: r.successorNum } : null}
              panel={(id) => (as === "admin" ? `/admin/rooms/${id}` : `/host/rooms/${id}`)}
            />
          )}
          <Button variant="ghost" onClick={() => confirm(tc("confirmDelete")) && del.mutate({ room })}>
            {tc("delete")}
          </Button>
        </div>
      </div>

      <div className="grid gap-6 lg:grid-cols-[3fr_2fr]">
        <Card title={t("preview")}>
          <Player room={r.id} status={live.status} />
          {!r.streamOnline && r.status !== "ended" && as === "host" && (
            <p className="mt-2 text-sm text-slate-500">{t("waitingEncoder")}</p>
          )}
        </Card>
        <Card title={t("audience")}>
          <div className="grid grid-cols-2 gap-3">
            <Stat label={t("online")} value={m.online} />
            <Stat label={t("likes")} value={m.likes} />
            <Stat label={t("pv")} value={m.pv} />
            <Stat label={t("uv")} value={m.uv} />
          </div>
          <div className="mt-4 h-40" aria-label={t("chart")}>
            <TimeChart
              data={chart.data}
              ticks={chart.ticks}
              label={chart.label}
              lines={[{ key: "online", name: t("online"), color: "#dc2626" }]}
            />
          </div>
        </Card>
      </div>

      {as === "admin" && <SourcePanel room={r.id} />}
      <StreamHealth room={r.id} status={r.status} />

      <div className="grid gap-6 lg:grid-cols-[3fr_2fr]">
        {r.status !== "ended" && (as === "host" || as === "admin") ? (
          <Card title={t("title")}>
            <GoLive room={r.id} />
          </Card>
        ) : (
          <div />
        )}
        <RefusedPushes room={r.id} pollMs={every(5000)} />
      </div>

      <div className="grid gap-6 lg:grid-cols-[3fr_2fr]">
        <ChatPanel room={r.id} live={live} className="h-[28rem]" />
        {r.status !== "ended" ? (
          <div className="flex flex-col gap-6">
            <ChatSettings
              room={r.id}
              slowS={live.info?.chatSlowS ?? r.chatSlowS}
              guestChat={live.info?.guestChat ?? r.guestChat}
            />
            <GraceSetting room={r.id} graceS={r.graceS} isDefault={r.graceDefault} />
          </div>
        ) : (
          <div />
        )}
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={t("queue")}>
          {!requests.data?.filter((x) => x.state === "pending").length ? (
            <Empty>{t("noRequests")}</Empty>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="mic-queue">
              {requests.data
                .filter((x) => x.state === "pending")
                .map((q) => (
                  <li key={q.id} className="flex items-center justify-between gap-2 py-2">
                    <span>{q.userNick || q.userId.slice(0, 8)}</span>
                    <span className="flex gap-2">
                      <Button onClick={() => approve.mutate({ room, userId: q.userId })}>{t("approve")}</Button>
                      <Button variant="secondary" onClick={() => reject.mutate({ room, userId: q.userId })}>
                        {t("reject")}
                      </Button>
                    </span>
                  </li>
                ))}
            </ul>
          )}
          <h3 className="mb-2 mt-4 text-sm font-semibold">{t("cohosts")}</h3>
          {!meeting.data?.members.length ? (
            <Empty>{t("noCohosts")}</Empty>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="cohosts">
              {meeting.data.members.map((c) => {
                // Approved co-hosts are listed before their client goes on the mic (reportstatus on):
                // their camera and mic flags say nothing yet.
                const state = requests.data?.find((x) => x.userId === c.user_id)?.state;
                return (
                  <li key={c.user_id} className="flex items-center justify-between gap-2 py-2" data-mic-state={state}>
                    <span>
                      {c.user_nick || c.user_id.slice(0, 8)}{" "}
                      <span className="text-xs text-slate-500">
                        ·{" "}
                        {state === "approved" ? (
                          t("cohostApproved")
                        ) : (
                          <>
                            {t("camera")} {c.camera_opened ? t("on") : t("off")} · {t("mic")}{" "}
                            {c.mic_opened ? t("on") : t("off")}
                          </>
                        )}
                      </span>
                    </span>
                    {c.user_id !== r.hostId && (
                      <Button variant="secondary" onClick={() => endMic.mutate({ room, userId: c.user_id })}>
                        {t("end")}
                      </Button>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </Card>
        <Card title={`${t("members")} (${members.data?.total ?? 0})`}>
          {!members.data?.items.length ? (
            <Empty>—</Empty>
          ) : (
            <ul
              className="max-h-80 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800"
              data-testid="members"
            >
              {members.data.items.map((mm) => (
                <li key={mm.memberId} className="flex items-center justify-between gap-2 py-1.5 text-sm">
                  <span className="truncate">
                    {mm.nick ||
                      (mm.memberId.startsWith("guest:")
                        ? t("guest", { id: mm.memberId.slice(6, 12) })
                        : mm.memberId.slice(0, 8))}{" "}
                    <span className="text-xs text-slate-500">· {t(`role${mm.role}` as "role0")}</span>
                  </span>
                  {mm.role !== 1 && (
                    <Button
                      variant="ghost"
                      onClick={() => confirm(t("kickConfirm")) && kick.mutate({ room, memberId: mm.memberId })}
                    >
                      {t("kick")}
                    </Button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>

      <Card title={t("recordings")}>
        {!recs.data?.items.length ? (
          <Empty>{t("noRecordings")}</Empty>
        ) : (
          <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="recordings">
            {recs.data.items.map((rec) => (
              <li
                key={rec.id}
                className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm"
                data-recording-status={rec.status}
              >
                <span>
                  {rec.name}{" "}
                  <span className="text-xs text-slate-500">
                    · {fmtDuration(rec.durationMs)} · {fmtBytes(rec.sizeBytes)} · {trec(rec.status)} ·{" "}
                    {fmtTime(rec.createdAt, locale)}
                  </span>
                </span>
                <span className="flex gap-2">
                  {rec.status === "ready" && (
                    <Button variant="secondary" onClick={() => setPlaying(playing === rec.id ? undefined : rec.id)}>
                      {trec("play")}
                    </Button>
                  )}
                  {rec.status === "ready" && <DownloadRecording id={rec.id} />}
                  <Button variant="ghost" onClick={() => confirm(tc("confirmDelete")) && delRec.mutate({ id: rec.id })}>
                    {tc("delete")}
                  </Button>
                </span>
                {playing === rec.id && vod.data && (
                  <video
                    className="mt-2 aspect-video w-full rounded bg-black"
                    src={vod.data.url}
                    controls
                    autoPlay
                    muted
                    data-testid="vod-player"
                  />
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>

      {as === "host" && (
        <Card title={t("embed")}>
          <div className="flex items-start gap-2">
            <code className="min-w-0 flex-1 break-all rounded bg-slate-100 p-2 text-xs dark:bg-slate-800">{embed}</code>
            <CopyButton value={embed} />
          </div>
        </Card>
      )}
    </div>
  );
}
