import Link from "next/link";
import { getServerSession } from "next-auth";
import { authOptions } from "@/server/auth/nextauth";

export const dynamic = "force-dynamic";

export default async function Home() {
  const session = await getServerSession(authOptions());
  const user = session?.user as { name?: string; role?: string } | undefined;
  return (
    <main className="mx-auto flex min-h-screen max-w-xl flex-col justify-center gap-6 p-8">
      <div className="flex items-center gap-3">
        <span className="inline-block h-3 w-3 rounded-full bg-red-500" aria-hidden />
        <h1 className="text-3xl font-semibold tracking-tight">onair</h1>
      </div>
      <p className="text-slate-600 dark:text-slate-400">Interactive live streaming, self-hosted.</p>
      {user ? (
        <div className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
          <p>
            Signed in as <strong>{user.name}</strong> ({user.role}).
          </p>
          <Link className="mt-3 inline-block text-sm text-blue-600 underline" href="/api/auth/signout">
            Sign out
          </Link>
        </div>
      ) : (
        <Link href="/signin" className="w-fit rounded-md bg-slate-900 px-4 py-2 text-white hover:bg-slate-700 dark:bg-white dark:text-slate-900">
          Sign in
        </Link>
      )}
    </main>
  );
}
