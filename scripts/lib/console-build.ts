// Whether the console's build (.next) is older than what it is built from. The web process serves
// the console and the tRPC and REST routes from that build, server/ code included, so a checkout
// updated after its last build (a `git pull`, an edited file) would serve yesterday's code: `npm
// start` and the browser tests build again when any input is newer than the build.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** What `next build` reads: folders walked whole (tests and compiled output left out) and single files. */
const INPUT_DIRS = ["app", "components", "lib", "server", "i18n", "messages", "types"];
const INPUT_FILES = ["next.config.js", "package-lock.json", "postcss.config.mjs", "tsconfig.json"];
const SKIP_DIRS = new Set(["node_modules", ".build"]);
const isTest = (name: string) => /\.test\.tsx?$/.test(name);
/** A bound on the walk: the tree has a few hundred inputs. */
const MAX_ENTRIES = 50_000;

/** The newest input (path relative to root and its modification time), or undefined when there is none. */
export function newestInput(root: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined;
  let seen = 0;
  const consider = (path: string) => {
    const m = statSync(path, { throwIfNoEntry: false });
    if (m?.isFile() && (!newest || m.mtimeMs > newest.mtimeMs))
      newest = { path: relative(root, path), mtimeMs: m.mtimeMs };
  };
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.isFile() && !isTest(e.name)) consider(p);
    }
  };
  for (const d of INPUT_DIRS) walk(join(root, d));
  for (const f of INPUT_FILES) consider(join(root, f));
  return newest;
}

/** Why the console must be built before it is served, or undefined when its build is current. */
export function consoleBuildStale(root: string): string | undefined {
  const built = statSync(join(root, ".next/BUILD_ID"), { throwIfNoEntry: false });
  if (!built) return "no build yet";
  const newest = newestInput(root);
  if (newest && newest.mtimeMs > built.mtimeMs) return `${newest.path} changed since the last build`;
  return undefined;
}
