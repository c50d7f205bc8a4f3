// Admin pages: refused on the server with HTTP 403 (app/(console)/forbidden.tsx) for anybody but admins.
import type { ReactNode } from "react";
import { forbidden } from "next/navigation";
import { consoleUser } from "@/server/auth/session";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const u = await consoleUser();
  if (u?.role !== "admin") forbidden();
  return children;
}
