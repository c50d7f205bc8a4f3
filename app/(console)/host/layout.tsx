// Host pages: refused on the server with HTTP 403 (app/(console)/forbidden.tsx) for viewers.
import type { ReactNode } from "react";
import { forbidden } from "next/navigation";
import { consoleUser } from "@/server/auth/session";

export default async function HostLayout({ children }: { children: ReactNode }) {
  const u = await consoleUser();
  if (u?.role !== "host" && u?.role !== "admin") forbidden();
  return children;
}
