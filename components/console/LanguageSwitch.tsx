"use client";
import { useLocale } from "next-intl";
import { useRouter } from "next/navigation";

export function LanguageSwitch() {
  const locale = useLocale();
  const router = useRouter();
  return (
    <select
      aria-label="Language / 语言"
      value={locale}
      onChange={(e) => {
        document.cookie = `onair-locale=${e.target.value}; path=/; max-age=31536000; samesite=lax`;
        router.refresh();
      }}
      className="rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700"
    >
      <option value="en">English</option>
      <option value="zh-CN">简体中文</option>
    </select>
  );
}
