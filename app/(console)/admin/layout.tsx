// Admin pages: refused on the server for anybody but admins.
import type { ReactNode } from "react";
import { consoleUser } from "@/server/auth/session";
import { Forbidden } from "@/components/console/Forbidden";

export default async function AdminLayout({ children }: { children: ReactNode }) {
  const u = await consoleUser();
  if (u?.role !== "admin") return <Forbidden />;
  return children;
}
