// The signed-in console user for server components and layouts (role checks happen here, on the
// server: a page a role may not see is refused, not just hidden).
import { getServerSession } from "next-auth";
import type { Role } from "../db/schema";
import { authOptions, consoleTokenRevoked, type ConsoleToken } from "./nextauth";
import { revocationSet } from "../tokens/revocations";
import { getDb } from "../db/client";

export interface ConsoleUser {
  id: string;
  name: string;
  role: Role;
  appId: number | null;
}

export async function consoleUser(): Promise<ConsoleUser | null> {
  const s = await getServerSession(authOptions());
  const u = s?.user;
  if (!u?.id || !u.role) return null;
  // The page process mirrors revocations too (signed out elsewhere, disabled, role changed).
  await revocationSet.poll(getDb()).catch(() => undefined);
  if (
    u.sid &&
    consoleTokenRevoked({
      uid: u.id,
      role: u.role,
      appId: u.appId ?? null,
      sid: u.sid,
      ims: u.ims ?? 0,
    } satisfies ConsoleToken)
  )
    return null;
  return { id: u.id, name: u.name ?? "", role: u.role, appId: u.appId ?? null };
}
