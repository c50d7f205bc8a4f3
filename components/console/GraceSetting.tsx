"use client";
// The room's grace: how long a dropped stream may take to come back before the room ends. The
// instance default (MEDIA_END_GRACE_S) unless the host or an admin sets the room's own.
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Input } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";

export const GRACE_MIN_S = 1;
export const GRACE_MAX_S = 3600;

export function GraceSetting({ room, graceS, isDefault }: { room: string; graceS: number; isDefault: boolean }) {
  const t = useTranslations("golive");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const [value, setValue] = useState<string>();
  const update = useMutation(
    trpc.rooms.update.mutationOptions({
      onSuccess: () => {
        setValue(undefined);
        toast("success", t("graceSaved"));
        void qc.invalidateQueries({ queryKey: trpc.rooms.get.queryKey() });
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  function submit(e: FormEvent) {
    e.preventDefault();
    update.mutate({ room, graceS: Number(value ?? graceS) });
  }
  return (
    <Card title={t("graceTitle")}>
      <form onSubmit={submit} className="flex flex-col gap-2 text-sm">
        <label className="flex flex-wrap items-center gap-2">
          {t("graceLabel")}
          <Input
            type="number"
            min={GRACE_MIN_S}
            max={GRACE_MAX_S}
            step={1}
            required
            className="w-24"
            value={value ?? String(graceS)}
            onChange={(e) => setValue(e.target.value)}
            data-testid="grace-input"
          />
          {t("seconds")}
          <Button type="submit" variant="secondary" disabled={update.isPending || value === undefined}>
            {tc("save")}
          </Button>
          {!isDefault && (
            <Button type="button" variant="ghost" onClick={() => update.mutate({ room, graceS: null })}>
              {t("graceReset")}
            </Button>
          )}
        </label>
        <p className="text-xs text-slate-500" data-testid="grace-setting">
          {isDefault ? t("graceIsDefault", { s: graceS }) : t("graceIsOwn", { s: graceS })}
        </p>
      </form>
    </Card>
  );
}
