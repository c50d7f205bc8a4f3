"use client";
// Downloads a ready recording: asks for a short-lived download URL (the room's host and the app's
// admins only) and lets the browser fetch it; the server names the file (Content-Disposition).
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";

export function DownloadRecording({ id }: { id: string }) {
  const t = useTranslations("recordings");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    try {
      const d = await qc.fetchQuery({ ...trpc.media.downloadUrl.queryOptions({ id }), staleTime: 0 });
      const a = document.createElement("a");
      a.href = d.url;
      a.download = "";
      a.rel = "noopener";
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (e) {
      toast("error", err(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Button variant="ghost" disabled={busy} onClick={() => void download()} data-testid="download-recording">
      {t("download")}
    </Button>
  );
}
