// next-auth's endpoints (sign-in, sign-out, session) for the console.
import NextAuth from "next-auth";
import { authOptions } from "@/server/auth/nextauth";

export const dynamic = "force-dynamic";

async function handler(req: Request, ctx: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(authOptions())(req, { params: await ctx.params });
}
export { handler as GET, handler as POST };
