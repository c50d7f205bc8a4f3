"use client";
// An endpoint's URL, description, the events it wants and whether it is on: for adding one and
// for editing one. Field errors come back from the server in the person's language.
import { useState, type FormEvent } from "react";
import { useTranslations } from "next-intl";
import { Button, Field, Input } from "@/components/ui";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "@/lib/domain";
import { formText } from "@/lib/forms";

export interface EndpointFields {
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
}

export function WebhookEndpointForm({
  initial,
  submitLabel,
  busy,
  errors,
  onSubmit,
  onCancel,
}: {
  initial?: EndpointFields;
  submitLabel: string;
  busy?: boolean;
  errors: Record<string, string>;
  onSubmit: (fields: EndpointFields) => void;
  onCancel?: () => void;
}) {
  const t = useTranslations("webhooks");
  const tc = useTranslations("common");
  const [events, setEvents] = useState<Set<WebhookEventType>>(
    new Set(initial?.events ?? ["room.live", "room.paused", "room.ended", "recording.ready"]),
  );
  const toggle = (e: WebhookEventType) => {
    const next = new Set(events);
    if (next.has(e)) next.delete(e);
    else next.add(e);
    setEvents(next);
  };
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    onSubmit({
      url: formText(f, "url"),
      description: formText(f, "description"),
      events: WEBHOOK_EVENT_TYPES.filter((x) => events.has(x)),
      enabled: f.get("enabled") === "on",
    });
  }
  return (
    <form onSubmit={submit} className="grid gap-3" aria-label={submitLabel}>
      <div className="grid gap-3 md:grid-cols-2">
        <Field label={t("url")} error={errors.url}>
          <Input name="url" type="url" required maxLength={1024} placeholder="https://" defaultValue={initial?.url} />
        </Field>
        <Field label={t("description")} error={errors.description}>
          <Input name="description" maxLength={256} defaultValue={initial?.description} />
        </Field>
      </div>
      <fieldset className="text-sm">
        <legend className="mb-1 font-medium text-slate-700 dark:text-slate-300">{t("events")}</legend>
        <div className="grid gap-x-4 gap-y-1 sm:grid-cols-2 lg:grid-cols-3">
          {WEBHOOK_EVENT_TYPES.map((ev) => (
            <label key={ev} className="flex items-center gap-2">
              <input
                type="checkbox"
                className="h-4 w-4"
                checked={events.has(ev)}
                onChange={() => toggle(ev)}
                data-event={ev}
              />
              <span>{t(`ev.${ev.replace(".", "_")}`)}</span>
              <code className="text-xs text-slate-500">{ev}</code>
            </label>
          ))}
        </div>
        <button
          type="button"
          className="mt-1 text-xs text-blue-700 hover:underline dark:text-blue-300"
          onClick={() => setEvents(new Set(WEBHOOK_EVENT_TYPES))}
        >
          {t("selectAll")}
        </button>
        {errors.events && (
          <p className="text-xs text-red-600" role="alert">
            {errors.events}
          </p>
        )}
      </fieldset>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="enabled" defaultChecked={initial?.enabled ?? true} className="h-4 w-4" />
        {t("enabled")}
      </label>
      <div className="flex gap-2">
        <Button type="submit" disabled={busy}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button type="button" variant="ghost" onClick={onCancel}>
            {tc("cancel")}
          </Button>
        )}
      </div>
    </form>
  );
}
