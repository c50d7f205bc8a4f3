"use client";
// An ended room is final; "Go live again" makes a new room with its settings, title and host (a new
// number and stream key) and opens its go-live panel. Once done, the ended room links to it.
import Link from "next/link";
import { useMutation } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useTRPC } from "@/lib/trpc";
import { Button } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";

export function GoLiveAgain({
  room,
  successor,
  panel,
}: {
  room: string;
  successor: { id: string; num: number } | null;
  /** The go-live panel's path for a room id (host or admin console). */
  panel: (id: string) => string;
}) {
  const t = useTranslations("golive");
  const trpc = useTRPC();
  const router = useRouter();
  const toast = useToast();
  const err = useErrorText();
  const again = useMutation(
    trpc.rooms.goLiveAgain.mutationOptions({
      onSuccess: (r) => {
        toast("success", t("againCreated", { num: r.num }));
        router.push(panel(r.id));
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  if (successor)
    return (
      <Link href={panel(successor.id)} className="text-sm text-blue-600 underline" data-testid="successor-link">
        {t("againContinued", { num: successor.num })}
      </Link>
    );
  return (
    <Button data-testid="go-live-again" disabled={again.isPending} onClick={() => again.mutate({ room })}>
      {t("again")}
    </Button>
  );
}
