"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

export function Nav({ items }: { items: { href: string; label: string }[] }) {
  const path = usePathname();
  return (
    <nav aria-label="Main" className="flex flex-wrap gap-1 text-sm">
      {items.map((i) => {
        const active =
          path === i.href ||
          (i.href !== "/admin" && i.href !== "/host" && path.startsWith(i.href)) ||
          (path.startsWith(i.href + "/") && i.href !== "/admin");
        return (
          <Link
            key={i.href}
            href={i.href}
            aria-current={active ? "page" : undefined}
            className={`rounded-md px-3 py-1.5 ${active ? "bg-slate-900 text-white dark:bg-white dark:text-slate-900" : "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"}`}
          >
            {i.label}
          </Link>
        );
      })}
    </nav>
  );
}
