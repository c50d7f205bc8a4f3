"use client";
// Admin overview: viewers online, rooms by status (links to them), live rooms, recent activity
// (links into the audit page) — refreshing by itself.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card, Empty, ErrorBox, Loading, Stat, StatusBadge } from "@/components/ui";
import { ROOM_STATUSES } from "@/lib/domain";
import { useErrorText } from "@/lib/errors";
import { RecentActivity } from "@/components/console/RecentActivity";
import { RoomThumb, useRoomPictures } from "@/components/console/RoomThumb";

export default function Overview() {
  const t = useTranslations("overview");
  const ts = useTranslations("status");
  const trpc = useTRPC();
  const err = useErrorText();
  const ov = useQuery(trpc.rooms.overview.queryOptions(undefined, { refetchInterval: 5000 }));
  const pictureOf = useRoomPictures(ov.data?.liveRooms.map((r) => r.id) ?? []);
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      {ov.error && <ErrorBox message={err(ov.error)} />}
      {/* Each figure once, and a way into the rooms behind it ("live" is the live-rooms list below). */}
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
        <Stat label={t("viewersOnline")} value={ov.data?.viewersOnline ?? "…"} />
        {ROOM_STATUSES.map((s) => (
          <Link
            key={s}
            href={`/admin/rooms?status=${s}`}
            title={t("seeRooms")}
            className="rounded-lg hover:ring-2 hover:ring-blue-400"
          >
            <Stat label={ts(s)} value={ov.data?.byStatus[s] ?? "…"} />
          </Link>
        ))}
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={t("liveNow")} className="min-w-0">
          {ov.isLoading ? (
            <Loading />
          ) : !ov.data?.liveRooms.length ? (
            <Empty>{t("noLive")}</Empty>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {ov.data.liveRooms.map((r) => (
                <li key={r.id} className="flex items-center justify-between gap-3 py-2" data-room={r.id}>
                  <Link href={`/admin/rooms/${r.id}`} className="flex min-w-0 items-center gap-3 hover:underline">
                    <RoomThumb picture={pictureOf(r.id)} title={r.title} className="w-24" />
                    <span className="min-w-0 truncate font-medium" title={r.title}>
                      {r.title}
                    </span>
                  </Link>
                  <span className="flex shrink-0 items-center gap-2 text-sm text-slate-500">
                    {r.hostNick} · {t("online")} {r.metrics?.online ?? 0} <StatusBadge status={r.status} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <RecentActivity />
      </div>
    </div>
  );
}
