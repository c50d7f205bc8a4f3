// Home: each role lands on its own start page.
import { redirect } from "next/navigation";
import { consoleUser } from "@/server/auth/session";

export const dynamic = "force-dynamic";

export default async function Home() {
  const user = await consoleUser();
  if (!user) redirect("/signin");
  redirect(user.role === "admin" ? "/admin" : user.role === "host" ? "/host" : "/rooms");
}
