// `npm start`: compile onair's processes (the supervisor, its set-up step, and the web, media and
// front processes) into server/.build/ with esbuild, then run the supervisor from there. Production
// runs this JavaScript: no TypeScript compiler loaded at run time (measured: tsx costs each process
// tens of MiB). Compiling takes about a second, so every start runs what the sources say.
import { buildSync, stop } from "esbuild";
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const out = resolve(root, "server/.build");
// Built aside and renamed into place file by file (renames are atomic): another start running
// meanwhile never loads a half-written file.
const aside = resolve(out, `.tmp-${process.pid}`);
mkdirSync(aside, { recursive: true });
buildSync({
  absWorkingDir: root,
  entryPoints: {
    start: "scripts/start.ts",
    setup: "scripts/setup.ts",
    front: "server/front/main.ts",
    web: "server/web/main.ts",
    media: "server/media/main.ts",
  },
  // server/.build/ is at the depth of server/<process>/main.ts: paths relative to a module stay right.
  outdir: aside,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
for (const f of readdirSync(aside)) renameSync(resolve(aside, f), resolve(out, f));
rmSync(aside, { recursive: true, force: true });
// The compiler is not needed again: its helper process goes now rather than idling for as long as onair runs.
await stop();
await import(resolve(out, "start.mjs"));
