// /watch/<room> for a room that does not exist (answered with HTTP 404).
import Link from "next/link";
import { getTranslations } from "next-intl/server";

export default async function RoomNotFound() {
  const t = await getTranslations("player");
  const tn = await getTranslations("watch");
  return (
    <main className="mx-auto mt-24 max-w-md p-4 text-center" data-testid="room-not-found">
      <p className="text-sm font-semibold text-slate-500">404</p>
      <h1 className="mt-2 text-2xl font-semibold">{t("not_found")}</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-300">{t("notFoundHint")}</p>
      <Link href="/" className="mt-6 inline-block text-blue-600 underline">
        {tn("browse")}
      </Link>
    </main>
  );
}
