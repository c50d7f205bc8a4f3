// A console sign-in as the browser makes it, over HTTP: next-auth's CSRF token (and its cookie),
// then the credentials form; the session cookie it sets is what the console sends from then on.

/** The cookie header a signed-in console sends (the CSRF cookie and the session's). Throws when refused. */
export async function consoleCookie(base: string, username: string, password: string): Promise<string> {
  const csrfRes = await fetch(`${base}/api/auth/csrf`);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const cookie = csrfRes.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const signin = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    body: new URLSearchParams({ csrfToken, username, password, json: "true" }),
  });
  const session = signin.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => c.includes("session-token"));
  if (!session.length) throw new Error(`console sign-in of ${username} refused: HTTP ${signin.status}`);
  return [cookie, ...session].join("; ");
}
