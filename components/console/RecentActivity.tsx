"use client";
// The overview's recent activity: the last changes in words, each linking into the audit page
// (filtered by its room or actor), and a link to all of it.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card, Empty, Loading } from "@/components/ui";
import { AuditEntry } from "./AuditEntry";

export function RecentActivity() {
  const t = useTranslations("overview");
  const trpc = useTRPC();
  const audit = useQuery(trpc.audit.list.queryOptions({ limit: 8 }, { refetchInterval: 10000 }));
  return (
    <Card
      title={t("activity")}
      className="min-w-0"
      actions={
        <Link href="/admin/audit" className="text-sm text-blue-700 hover:underline dark:text-blue-300">
          {t("allActivity")} →
        </Link>
      }
    >
      {audit.isLoading ? (
        <Loading />
      ) : !audit.data?.items.length ? (
        <Empty>{t("noActivity")}</Empty>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="recent-activity">
          {audit.data.items.map((a) => (
            <li key={a.id} className="py-1.5">
              <AuditEntry a={a} compact />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
