"use client";
// Adding or editing a room's stream source: its URL (never shown back in full: left empty when
// editing, the stored one stays) and its mode; the server checks the URL and says which rule failed.
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, ErrorBox, Field, Input, Select } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText, useFieldErrors } from "@/lib/errors";
import { formText } from "@/lib/forms";

export type SourceKind = "main" | "sub";
export type SourceMode = "on_demand" | "always_on";

export function SourceForm({
  room,
  kinds,
  editing,
  onDone,
}: {
  room: string;
  /** The kinds it may add (a new source), or the one it edits. */
  kinds: SourceKind[];
  /** The source edited: its shown URL and mode. */
  editing?: { url: string; mode: SourceMode };
  onDone: () => void;
}) {
  const t = useTranslations("sources");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const errText = useErrorText();
  const fieldErrors = useFieldErrors();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const save = useMutation(
    trpc.sources.set.mutationOptions({
      onSuccess: () => {
        toast("success", tc("saved"));
        void qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.media.pullUrls.queryKey() });
        onDone();
      },
      onError: (e) => {
        const byField = fieldErrors(e);
        setFields(byField);
        setError(Object.keys(byField).length ? undefined : errText(e));
      },
    }),
  );
  return (
    <form
      className="flex flex-col gap-3 rounded-md border border-slate-200 p-3 dark:border-slate-700"
      data-testid="source-form"
      noValidate
      onSubmit={(ev) => {
        ev.preventDefault();
        const form = new FormData(ev.currentTarget);
        const url = formText(form, "url").trim();
        setFields({});
        setError(undefined);
        save.mutate({
          room,
          kind: formText(form, "kind") as SourceKind,
          mode: formText(form, "mode") as SourceMode,
          ...(url ? { url } : {}),
        });
      }}
    >
      <div className="grid gap-3 md:grid-cols-[8rem_1fr_12rem]">
        <Field label={t("kind")}>
          <Select name="kind" defaultValue={kinds[0]} disabled={!!editing}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {t(k)}
              </option>
            ))}
          </Select>
          {editing && <input type="hidden" name="kind" value={kinds[0]} />}
        </Field>
        <Field label={t("url")} error={fields.url} hint={editing ? t("keepUrl", { url: editing.url }) : t("urlHint")}>
          <Input
            name="url"
            autoComplete="off"
            spellCheck={false}
            placeholder={editing ? editing.url : "rtsp://user:password@192.168.1.64:554/Streaming/Channels/101"}
            aria-invalid={!!fields.url || undefined}
          />
        </Field>
        <Field label={t("mode")} hint={t("modeHint")}>
          <Select name="mode" defaultValue={editing?.mode ?? "on_demand"}>
            <option value="on_demand">{t("on_demand")}</option>
            <option value="always_on">{t("always_on")}</option>
          </Select>
        </Field>
      </div>
      {error && <ErrorBox message={error} />}
      <div className="flex gap-2">
        <Button type="submit" disabled={save.isPending}>
          {tc("save")}
        </Button>
        <Button type="button" variant="ghost" onClick={onDone}>
          {tc("cancel")}
        </Button>
      </div>
    </form>
  );
}
