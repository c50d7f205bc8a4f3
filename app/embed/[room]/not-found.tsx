// /embed/<room> for a room that does not exist (answered with HTTP 404), sized for an <iframe>.
import { getTranslations } from "next-intl/server";

export default async function EmbedRoomNotFound() {
  const t = await getTranslations("player");
  return (
    <main
      className="flex min-h-screen flex-col items-center justify-center bg-black p-4 text-center text-white"
      data-testid="room-not-found"
    >
      <p className="text-sm font-semibold text-slate-400">404</p>
      <h1 className="mt-2 text-xl font-semibold">{t("not_found")}</h1>
      <p className="mt-2 text-sm text-slate-300">{t("notFoundHint")}</p>
    </main>
  );
}
