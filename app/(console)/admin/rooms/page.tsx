"use client";
// All rooms with filters (app, status, host, title search), keyset paging, newest first.
import Link from "next/link";
import { useState } from "react";
import { useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Input, ListOf, Select, StatusBadge } from "@/components/ui";
import { ROOM_STATUSES, type RoomStatus } from "@/lib/domain";
import { fmtTime } from "@/lib/format";
import { RoomThumb, useRoomPictures } from "@/components/console/RoomThumb";

export default function Rooms() {
  const t = useTranslations("rooms");
  const ts = useTranslations("status");
  const tc = useTranslations("common");
  const locale = useLocale();
  const trpc = useTRPC();
  // The overview links here with ?status=….
  const initial = useSearchParams().get("status");
  const [status, setStatus] = useState<RoomStatus | "">(
    ROOM_STATUSES.includes(initial as RoomStatus) ? (initial as RoomStatus) : "",
  );
  const [appId, setAppId] = useState<number>();
  const [hostId, setHostId] = useState("");
  const [q, setQ] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const apps = useQuery(trpc.apps.list.queryOptions());
  const hostFilter = /^[0-9a-f-]{36}$/.test(hostId) ? hostId : undefined;
  const list = useQuery(
    trpc.rooms.list.queryOptions(
      {
        status: status || undefined,
        appId,
        hostId: hostFilter,
        q: q || undefined,
        limit: 20,
        cursor: cursors.at(-1),
        withMetrics: true,
      },
      { refetchInterval: 5000 },
    ),
  );
  const resetPaging = () => setCursors([]);
  const pictureOf = useRoomPictures(list.data?.items.map((r) => r.id) ?? []);

  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      <Card>
        <div className="mb-3 grid gap-3 sm:grid-cols-4">
          <Input
            aria-label={t("searchTitle")}
            placeholder={t("searchTitle")}
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              resetPaging();
            }}
          />
          <Select
            aria-label={t("filterStatus")}
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              resetPaging();
            }}
          >
            <option value="">
              {t("filterStatus")}: {tc("all")}
            </option>
            {ROOM_STATUSES.map((s) => (
              <option key={s} value={s}>
                {ts(s)}
              </option>
            ))}
          </Select>
          <Select
            aria-label={t("filterApp")}
            value={appId ?? ""}
            onChange={(e) => {
              setAppId(Number(e.target.value) || undefined);
              resetPaging();
            }}
          >
            <option value="">
              {t("filterApp")}: {tc("all")}
            </option>
            {apps.data?.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </Select>
          <Input
            aria-label={t("filterHost")}
            placeholder={t("filterHost")}
            value={hostId}
            onChange={(e) => {
              setHostId(e.target.value.trim());
              resetPaging();
            }}
          />
        </div>
        <ListOf query={list} items={list.data?.items} empty={t("empty")}>
          {(items) => (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th className="w-24 py-2">
                      <span className="sr-only">{t("picture")}</span>
                    </th>
                    <th className="py-2">{t("title_")}</th>
                    <th>{t("host")}</th>
                    <th>{t("status")}</th>
                    <th>{t("online")}</th>
                    <th>{t("created")}</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                  {items.map((r) => (
                    <tr key={r.id} data-room={r.id}>
                      <td className="py-2 pr-3">
                        <RoomThumb picture={pictureOf(r.id)} title={r.title} className="w-20" />
                      </td>
                      <td className="py-2">
                        <Link
                          className="block max-w-[16rem] truncate font-medium hover:underline sm:max-w-xs"
                          href={`/admin/rooms/${r.id}`}
                          title={r.title}
                        >
                          {r.title}
                        </Link>
                        <div className="text-xs text-slate-500">#{r.num}</div>
                      </td>
                      <td>{r.hostNick}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td className="tabular-nums">{r.metrics?.online ?? 0}</td>
                      <td className="text-slate-500">{fmtTime(r.createdAt, locale)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="mt-3 flex items-center justify-between text-sm">
                <span className="text-slate-500">
                  {list.data?.total} · {tc("page", { page: cursors.length + 1 })}
                </span>
                <div className="flex gap-2">
                  <Button
                    variant="secondary"
                    disabled={!cursors.length}
                    onClick={() => setCursors(cursors.slice(0, -1))}
                  >
                    {tc("prev")}
                  </Button>
                  <Button
                    variant="secondary"
                    disabled={!list.data?.nextCursor}
                    onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}
                  >
                    {tc("next")}
                  </Button>
                </div>
              </div>
            </div>
          )}
        </ListOf>
      </Card>
    </div>
  );
}
