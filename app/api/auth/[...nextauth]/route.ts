// next-auth's endpoints (sign-in, sign-out, session) for the console.
import type { NextRequest } from "next/server";
import NextAuth, { type AuthOptions } from "next-auth";
import { authOptions } from "@/server/auth/nextauth";

export const dynamic = "force-dynamic";

/** next-auth's App Router form, as it behaves: it answers the request (its typings say `any`). */
const nextAuthRoute: (
  req: NextRequest,
  ctx: { params: { nextauth: string[] } },
  options: AuthOptions,
) => Promise<Response> = NextAuth;

async function handler(req: NextRequest, ctx: { params: Promise<{ nextauth: string[] }> }) {
  return nextAuthRoute(req, { params: await ctx.params }, authOptions());
}
export { handler as GET, handler as POST };
