"use client";
// The host's chat settings for a room: slow mode and whether guests may chat (the app's word filter
// is an admin's, on the Apps page).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";

const SLOW = [0, 3, 10, 30, 60];

export function ChatSettings({ room, slowS, guestChat }: { room: string; slowS: number; guestChat: boolean }) {
  const t = useTranslations("chat");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const update = useMutation(
    trpc.rooms.update.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.rooms.get.queryKey() }),
      onError: (e) => toast("error", err(e)),
    }),
  );
  return (
    <Card title={t("settings")}>
      <div className="flex flex-col gap-3 text-sm">
        <label className="flex items-center gap-2">
          <select
            value={slowS}
            onChange={(e) => update.mutate({ room, chatSlowS: Number(e.target.value) })}
            className="rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700"
            aria-label={t("slowMode", { s: slowS })}
            data-testid="chat-slow"
          >
            {SLOW.map((s) => (
              <option key={s} value={s}>
                {s ? t("slowS", { s }) : t("slowOff")}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            checked={guestChat}
            onChange={(e) => update.mutate({ room, guestChat: e.target.checked })}
            data-testid="chat-guests"
          />
          {t("guestChat")}
        </label>
      </div>
    </Card>
  );
}
