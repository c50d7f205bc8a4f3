"use client";
// Audit: every change in words, newest first, filtered by app, who, what, room and time (the
// filters live in the URL, so the overview and each row link here filtered); paged by cursor.
import { useState, type FormEvent } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Field, Input, ListOf, Select } from "@/components/ui";
import { AuditEntry } from "@/components/console/AuditEntry";
import { AUDIT_FAMILIES, SYSTEM_ACTORS, useAuditWords } from "@/components/console/useAuditWords";
import { formText } from "@/lib/forms";

const PAGE = 25;
const FILTERS = ["app", "actor", "action", "room", "from", "to"] as const;

/** A datetime-local value (the person's local time) as ms since the epoch. */
const localMs = (v: string | null) => (v ? new Date(v).getTime() || undefined : undefined);

export default function Audit() {
  const t = useTranslations("audit");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const words = useAuditWords();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [cursors, setCursors] = useState<number[]>([]);
  const apps = useQuery(trpc.apps.list.queryOptions());
  const get = (k: (typeof FILTERS)[number]) => params.get(k) ?? "";
  const input = {
    appId: Number(get("app")) || undefined,
    actor: get("actor") || undefined,
    action: get("action") || undefined,
    room: get("room") || undefined,
    from: localMs(get("from")),
    to: localMs(get("to")),
    limit: PAGE,
    cursor: cursors.at(-1),
  };
  const list = useQuery(trpc.audit.list.queryOptions(input, { refetchInterval: 10_000 }));

  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const q = new URLSearchParams();
    for (const k of FILTERS) {
      const v = formText(f, k).trim();
      if (v) q.set(k, v);
    }
    setCursors([]);
    router.replace(q.size ? `${pathname}?${q}` : pathname);
  }

  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">{t("title")}</h1>
        <p className="text-sm text-slate-500">{t("intro")}</p>
      </div>
      <Card>
        {/* Keyed by the URL so a link with other filters refills the form. */}
        <form
          key={params.toString()}
          onSubmit={apply}
          aria-label={t("title")}
          className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3"
        >
          {(apps.data?.length ?? 0) > 1 && (
            <Field label={t("app")}>
              <Select name="app" defaultValue={get("app")}>
                <option value="">{t("anyApp")}</option>
                {apps.data?.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Field label={t("actor")} hint={t("actorHint")}>
            <Input name="actor" list="audit-actors" defaultValue={get("actor")} maxLength={64} />
          </Field>
          <datalist id="audit-actors">
            {SYSTEM_ACTORS.map((v) => (
              <option key={v} value={`system:${v}`}>
                {words.via(v)}
              </option>
            ))}
          </datalist>
          <Field label={t("action")}>
            <Select name="action" defaultValue={get("action")}>
              <option value="">{t("anyAction")}</option>
              {AUDIT_FAMILIES.map((f) => (
                <optgroup key={f} label={words.family(f)}>
                  <option value={f}>{t("family", { family: words.family(f) })}</option>
                  {words.knownActions(f).map((a) => (
                    <option key={a} value={a}>
                      {words.action(a)}
                    </option>
                  ))}
                </optgroup>
              ))}
            </Select>
          </Field>
          <Field label={t("room")} hint={t("roomHint")}>
            <Input name="room" defaultValue={get("room")} maxLength={36} />
          </Field>
          <Field label={t("from")}>
            <Input name="from" type="datetime-local" defaultValue={get("from")} />
          </Field>
          <Field label={t("to")}>
            <Input name="to" type="datetime-local" defaultValue={get("to")} />
          </Field>
          <div className="flex items-end gap-2">
            <Button type="submit">{t("apply")}</Button>
            <Button
              type="button"
              variant="ghost"
              onClick={() => {
                setCursors([]);
                router.replace(pathname);
              }}
            >
              {t("clear")}
            </Button>
          </div>
        </form>
      </Card>
      <Card>
        <ListOf query={list} items={list.data?.items} empty={t("empty")}>
          {(items) => (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" data-testid="audit-list">
              {items.map((a) => (
                <li key={a.id} className="py-2">
                  <AuditEntry a={a} />
                </li>
              ))}
            </ul>
          )}
        </ListOf>
        {(cursors.length > 0 || list.data?.nextCursor) && (
          <div className="mt-3 flex items-center justify-end gap-2">
            <span className="text-xs text-slate-500">{tc("page", { page: cursors.length + 1 })}</span>
            <Button variant="secondary" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
              {t("newer")}
            </Button>
            <Button
              variant="secondary"
              disabled={!list.data?.nextCursor}
              onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}
            >
              {t("older")}
            </Button>
          </div>
        )}
      </Card>
    </div>
  );
}
