// The console shell: signed-in only, navigation by role, language switch, sign-out.
import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { getTranslations } from "next-intl/server";
import { consoleUser } from "@/server/auth/session";
import { LanguageSwitch } from "@/components/console/LanguageSwitch";
import { Nav } from "@/components/console/Nav";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const user = await consoleUser();
  if (!user) redirect("/signin");
  const t = await getTranslations("nav");
  const items =
    user.role === "admin"
      ? [
          { href: "/admin", label: t("overview") },
          { href: "/admin/apps", label: t("apps") },
          { href: "/admin/users", label: t("users") },
          { href: "/admin/rooms", label: t("rooms") },
          { href: "/admin/recordings", label: t("recordings") },
          { href: "/admin/audit", label: t("audit") },
          { href: "/admin/apis", label: t("apis") },
        ]
      : user.role === "host"
        ? [
            { href: "/host", label: t("myRooms") },
            { href: "/rooms", label: t("watch") },
          ]
        : [{ href: "/rooms", label: t("watch") }];
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link href="/" className="flex items-center gap-2 font-semibold">
            <span className="h-2.5 w-2.5 rounded-full bg-red-500" aria-hidden />
            onair
          </Link>
          <Nav items={items} />
          <div className="ml-auto flex items-center gap-3 text-sm">
            <span className="hidden text-slate-500 sm:inline" data-testid="whoami">
              {user.name} · {t(`role_${user.role}`)}
            </span>
            <LanguageSwitch />
            <Link
              href="/api/auth/signout"
              className="text-slate-600 underline-offset-4 hover:underline dark:text-slate-300"
            >
              {t("signOut")}
            </Link>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
    </div>
  );
}
