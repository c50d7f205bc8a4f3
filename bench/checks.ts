// What a row's answers must be for its figures to mean anything. 随心播 answers every command with
// HTTP 200, its envelope's errorCode saying whether it worked: a load whose token was refused
// measured fast error envelopes (the scale scenario's 随心播 lists did, until a second sign-in on
// the list user's device revoked its session no more). A row with a check sends each of its bodies
// once before its load and its first again after it, and stops the bench on an answer that fails.

/** A problem with an answer (undefined: it is a success). */
export type AnswerCheck = (status: number, body: string) => string | undefined;

/** A row's requests: its bodies are sent in turn over the load's connections. */
export interface RowRequest {
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  bodies?: string[];
  /** What its answers must be: checked before the load and after it. */
  check?: AnswerCheck;
  /** Its answers are refusals (4xx): a 2xx one counts as failed, and they do not. */
  refusals?: boolean;
}

/** A 2xx answer's JSON, or the problem with it. */
function json(status: number, body: string): { value: unknown } | { problem: string } {
  if (status < 200 || status > 299) return { problem: `HTTP ${status}: ${body.slice(0, 120)}` };
  try {
    return { value: JSON.parse(body) as unknown };
  } catch {
    return { problem: `not JSON: ${body.slice(0, 80)}` };
  }
}

/** A 2xx answer whose 随心播 envelope has errorCode 0. */
export const sxbSuccess: AnswerCheck = (status, body) => {
  const j = json(status, body);
  if ("problem" in j) return j.problem;
  const e = j.value as { errorCode?: unknown; errorInfo?: unknown } | null;
  return e?.errorCode === 0 ? undefined : `errorCode ${String(e?.errorCode)} (${String(e?.errorInfo)})`;
};

/** A 2xx answer whose body is a JSON array (AUI `list`'s RoomInfo[]). */
export const jsonArray: AnswerCheck = (status, body) => {
  const j = json(status, body);
  if ("problem" in j) return j.problem;
  return Array.isArray(j.value) ? undefined : `not an array: ${body.slice(0, 80)}`;
};

/** A 2xx answer whose body is a room's state, its figures in it (`/api/rooms/state`). */
export const roomStateAnswer: AnswerCheck = (status, body) => {
  const j = json(status, body);
  if ("problem" in j) return j.problem;
  const m = (j.value as { metrics?: { online?: unknown } } | null)?.metrics;
  return typeof m?.online === "number" ? undefined : `no figures: ${body.slice(0, 80)}`;
};

/** A 2xx answer of a tRPC batch whose calls all succeeded (each `{result: {data}}`). */
export const trpcBatch: AnswerCheck = (status, body) => {
  const j = json(status, body);
  if ("problem" in j) return j.problem;
  const calls = j.value as Array<{ result?: { data?: unknown } }>;
  return Array.isArray(calls) && calls.length && calls.every((c) => c?.result?.data !== undefined)
    ? undefined
    : `not a successful batch: ${body.slice(0, 80)}`;
};

/** Sends each body once (at most `max`, evenly picked) and returns the first problem, if any. */
export async function firstProblem(
  o: { url: string; method: string; headers?: Record<string, string>; bodies?: string[] },
  check: AnswerCheck,
  max = 200,
): Promise<string | undefined> {
  const bodies: Array<string | undefined> = o.bodies?.length ? o.bodies : [undefined];
  const step = Math.max(1, Math.ceil(bodies.length / max));
  for (let i = 0; i < bodies.length; i += step) {
    const res = await fetch(o.url, { method: o.method, headers: o.headers, body: bodies[i] });
    const problem = check(res.status, await res.text());
    if (problem) return bodies.length > 1 ? `body ${i + 1} of ${bodies.length}: ${problem}` : problem;
  }
  return undefined;
}

/** SRS's "allowed": HTTP 200 and the body "0" (any other answer denies the publish or play). */
export const srsAllowed: AnswerCheck = (status, body) =>
  status === 200 && body === "0" ? undefined : `HTTP ${status}: ${body.slice(0, 120)}`;

/** A publish SRS is told to refuse for a wrong key: onair's 401 (any answer but 200 "0" denies). */
export const srsRefused: AnswerCheck = (status, body) =>
  status === 401 && body.includes("TOKEN_INVALID") ? undefined : `HTTP ${status}: ${body.slice(0, 120)}`;
