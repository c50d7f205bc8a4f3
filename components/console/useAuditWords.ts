"use client";
// Audit rows in words, in the person's language: "Stream stopped — grace expired" by "Grace timer",
// not `room.stream_abandoned` by `system:grace`. Shared by the audit page and the overview.
import { useTranslations } from "next-intl";

export interface AuditEntryLike {
  action: string;
  actorKind: string;
  actorId: string | null;
  actorName: string | null;
}

export const AUDIT_FAMILIES = [
  "room",
  "member",
  "chat",
  "mic",
  "recording",
  "app",
  "user",
  "source",
  "webhook",
] as const;

/** The system actors (`system:<via>`) the audit page offers as filters. */
export const SYSTEM_ACTORS = [
  "grace",
  "embedded",
  "srs",
  "nginx",
  "reconcile",
  "media",
  "tencent",
  "polyv",
  "haoshitong",
  "sxb",
  "aui-demo",
  "ltstream",
  "bootstrap",
] as const;

export function useAuditWords() {
  const t = useTranslations("audit");
  const actionKey = (action: string) => `actions.${action.replace(".", "_")}`;
  return {
    /** What happened, in words (unknown actions say so, with their code). */
    action: (action: string) => (t.has(actionKey(action)) ? t(actionKey(action)) : t("unknownAction", { action })),
    /** Who did it: a username, or what in onair acted. */
    actor: (a: AuditEntryLike) => {
      if (a.actorKind === "system" && a.actorId?.startsWith("system:")) {
        const via = a.actorId.slice(7);
        return t.has(`via.${via}`) ? t(`via.${via}`) : t("systemActor", { via });
      }
      return a.actorName ?? a.actorId ?? "—";
    },
    /** A system actor's name by its via (filters). */
    via: (via: string) => (t.has(`via.${via}`) ? t(`via.${via}`) : via),
    family: (f: string) => (t.has(`families.${f}`) ? t(`families.${f}`) : f),
    /** Every action this console has words for, by family (the filter's options). */
    knownActions: (family: string) =>
      Object.keys(t.raw("actions") as Record<string, string>)
        .filter((k) => k.startsWith(`${family}_`))
        .map((k) => k.replace("_", ".")),
  };
}
