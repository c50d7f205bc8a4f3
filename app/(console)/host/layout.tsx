// Host pages: refused on the server for viewers.
import type { ReactNode } from "react";
import { consoleUser } from "@/server/auth/session";
import { Forbidden } from "@/components/console/Forbidden";

export default async function HostLayout({ children }: { children: ReactNode }) {
  const u = await consoleUser();
  if (u?.role !== "host" && u?.role !== "admin") return <Forbidden />;
  return children;
}
