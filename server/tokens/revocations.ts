// Token revocation shared by every instance: rows in `revocations` (append-only), mirrored into
// each process's memory by polling new ids every REVOCATION_POLL_MS, so verification stays a pure,
// in-memory check. A revocation written by this process applies here at once, elsewhere within a poll.
// Disabled apps are mirrored the same way: every token of a disabled app stops verifying.
import { and, eq, gt, lt } from "drizzle-orm";
import type { DbOrTx, Db } from "../db/client";
import { apps, revocations, type RevocationKind } from "../db/schema";
import { errorText, log } from "../log";

const key = (kind: RevocationKind, subject: string) => `${kind}:${subject}`;

class RevocationSet {
  private before = new Map<string, number>();
  private disabledApps = new Set<number>();
  private lastId = 0;
  private timer: NodeJS.Timeout | undefined;
  private changes = 0;

  /**
   * Grows whenever what this set answers may change (a revocation or an app's state): an answer
   * computed at one version holds for as long as the version is the same.
   */
  get version(): number {
    return this.changes;
  }

  /** Milliseconds before which tokens of this subject are revoked (0 if none). */
  revokedBefore(kind: RevocationKind, subject: string): number {
    return this.before.get(key(kind, subject)) ?? 0;
  }

  /** Whether the app is disabled (as of the last poll, or at once when this process disabled it). */
  appDisabled(appId: number | null): boolean {
    return appId !== null && this.disabledApps.has(appId);
  }

  setAppDisabled(appId: number, disabled: boolean) {
    if (this.disabledApps.has(appId) === disabled) return;
    if (disabled) this.disabledApps.add(appId);
    else this.disabledApps.delete(appId);
    this.changes++;
  }

  apply(kind: RevocationKind, subject: string, beforeMs: number) {
    const k = key(kind, subject);
    if (!((this.before.get(k) ?? 0) < beforeMs)) return;
    this.before.set(k, beforeMs);
    this.changes++;
  }

  /** Loads revocations written since the last poll (by any instance). */
  async poll(db: Db, nowMs = Date.now()): Promise<void> {
    const rows = await db
      .select()
      .from(revocations)
      .where(and(gt(revocations.id, this.lastId), gt(revocations.expiresAt, new Date(nowMs))))
      .orderBy(revocations.id)
      .limit(10_000);
    for (const r of rows) {
      this.apply(r.kind, r.subject, r.beforeAt.getTime());
      this.lastId = Math.max(this.lastId, r.id);
    }
    if (rows.length === 10_000) return this.poll(db, nowMs);
    const disabled = await db.select({ id: apps.id }).from(apps).where(eq(apps.enabled, false));
    const now = new Set(disabled.map((a) => a.id));
    if (now.size !== this.disabledApps.size || [...now].some((id) => !this.disabledApps.has(id))) {
      this.disabledApps = now;
      this.changes++;
    }
  }

  start(db: Db, everyMs: number) {
    if (this.timer) return;
    const tick = () => void this.poll(db).catch((e) => log.warn("revocation poll failed", { error: errorText(e) }));
    tick();
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export const revocationSet = new RevocationSet();

/** Writes a revocation (inside the caller's transaction when given one) and applies it locally. */
export async function revoke(
  db: DbOrTx,
  kind: RevocationKind,
  subject: string,
  before: Date,
  keepUntil: Date,
): Promise<void> {
  await db.insert(revocations).values({ kind, subject, beforeAt: before, expiresAt: keepUntil });
  revocationSet.apply(kind, subject, before.getTime());
}

export async function pruneRevocations(db: DbOrTx, now: Date) {
  await db.delete(revocations).where(lt(revocations.expiresAt, now));
}
