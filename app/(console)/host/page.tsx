"use client";
// A host's rooms: create and edit (title, notice, cover, mode, record), open the go-live panel.
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useTRPC } from "@/lib/trpc";
import { RoomThumb, useRoomPictures } from "@/components/console/RoomThumb";
import { Button, Card, Field, Input, ListOf, Select, StatusBadge } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText, useFieldErrors } from "@/lib/errors";
import { fmtTime } from "@/lib/format";
import { formText } from "@/lib/forms";

type RoomLike = {
  id: string;
  title: string;
  notice: string;
  coverUrl: string;
  mode: number;
  record: boolean;
  /** The room's own grace in seconds; null: the instance default. */
  graceS: number | null;
};

function RoomForm({
  initial,
  onSubmit,
  busy,
  errors,
}: {
  initial?: RoomLike;
  onSubmit: (v: Omit<RoomLike, "id">) => void;
  busy: boolean;
  errors: Record<string, string>;
}) {
  const t = useTranslations("host");
  const tc = useTranslations("common");
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    onSubmit({
      title: formText(f, "title"),
      notice: formText(f, "notice"),
      coverUrl: formText(f, "coverUrl"),
      mode: Number(f.get("mode")),
      record: f.get("record") === "on",
      graceS: formText(f, "graceS") ? Number(formText(f, "graceS")) : null,
    });
  }
  return (
    <form onSubmit={submit} className="grid gap-3 md:grid-cols-2" aria-label={initial ? t("edit") : t("create")}>
      <Field label={t("titleField")} error={errors.title}>
        <Input name="title" required maxLength={256} defaultValue={initial?.title} />
      </Field>
      <Field label={t("cover")} error={errors.coverUrl}>
        <Input name="coverUrl" type="url" placeholder="https://" defaultValue={initial?.coverUrl} />
      </Field>
      <Field label={t("notice")} error={errors.notice}>
        <Input name="notice" maxLength={1024} defaultValue={initial?.notice} />
      </Field>
      <Field label={t("mode")}>
        <Select name="mode" defaultValue={initial?.mode ?? 0}>
          <option value={0}>{t("mode0")}</option>
          <option value={1}>{t("mode1")}</option>
          <option value={2}>{t("mode2")}</option>
        </Select>
      </Field>
      <Field label={t("grace")} error={errors.graceS}>
        <Input
          name="graceS"
          type="number"
          min={1}
          max={3600}
          step={1}
          placeholder={t("graceDefault")}
          defaultValue={initial?.graceS ?? ""}
        />
      </Field>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="record" defaultChecked={initial?.record ?? true} className="h-4 w-4" />
        {t("record")}
      </label>
      <div className="flex justify-end">
        <Button type="submit" disabled={busy}>
          {initial ? tc("save") : tc("create")}
        </Button>
      </div>
    </form>
  );
}

export default function HostRooms() {
  const t = useTranslations("host");
  const locale = useLocale();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const fieldErrors = useFieldErrors();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery(
    trpc.rooms.list.queryOptions(
      { hostId: me.data?.id, limit: 50, withMetrics: true },
      { enabled: !!me.data, refetchInterval: 5000 },
    ),
  );
  const pictureOf = useRoomPictures(list.data?.items.map((r) => r.id) ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [editing, setEditing] = useState<string>();
  const create = useMutation(
    trpc.rooms.create.mutationOptions({
      onSuccess: (r) => router.push(`/host/rooms/${r.id}`),
      onError: (e) => {
        setErrors(fieldErrors(e));
        toast("error", err(e));
      },
    }),
  );
  const update = useMutation(
    trpc.rooms.update.mutationOptions({
      onSuccess: () => {
        toast("success", t("saved"));
        setEditing(undefined);
        void qc.invalidateQueries({ queryKey: trpc.rooms.list.queryKey() });
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      <Card title={t("create")}>
        <RoomForm onSubmit={(v) => create.mutate(v)} busy={create.isPending} errors={errors} />
      </Card>
      <ListOf query={list} items={list.data?.items} empty={t("empty")} loading={me.isLoading}>
        {(items) => (
          <div className="grid gap-3 md:grid-cols-2">
            {items.map((r) => (
              <Card
                key={r.id}
                className="min-w-0"
                title={
                  <span className="flex min-w-0 items-center gap-2">
                    <span className="truncate" title={r.title} data-testid="room-card-title">
                      {r.title}
                    </span>
                    <StatusBadge status={r.status} />
                  </span>
                }
                actions={
                  <div className="flex gap-2">
                    {r.status !== "ended" && (
                      <Button variant="secondary" onClick={() => setEditing(editing === r.id ? undefined : r.id)}>
                        {t("edit")}
                      </Button>
                    )}
                    {/* An ended room cannot go live: it opens its page (recordings, "Go live again"). */}
                    <Link
                      href={`/host/rooms/${r.id}`}
                      className={
                        r.status === "ended"
                          ? "rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800"
                          : "rounded-md bg-red-600 px-3 py-2 text-sm font-medium text-white hover:bg-red-500"
                      }
                      data-testid="room-card-open"
                    >
                      {r.status === "ended" ? t("open") : t("manage")}
                    </Link>
                  </div>
                }
              >
                <div className="flex items-center gap-3" data-room={r.id}>
                  <RoomThumb picture={pictureOf(r.id)} title={r.title} className="w-28" />
                  <p className="min-w-0 text-sm text-slate-500">
                    #{r.num} · {fmtTime(r.createdAt, locale)} · {t("online", { count: r.metrics?.online ?? 0 })}
                  </p>
                </div>
                {editing === r.id && (
                  <div className="mt-3">
                    <RoomForm
                      initial={{ ...r, graceS: r.graceDefault ? null : r.graceS }}
                      busy={update.isPending}
                      errors={{}}
                      onSubmit={(v) => update.mutate({ room: r.id, ...v })}
                    />
                  </div>
                )}
              </Card>
            ))}
          </div>
        )}
      </ListOf>
    </div>
  );
}
