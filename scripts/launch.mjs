// `npm start`: compile onair's processes into server/.build/ (scripts/build-server.mjs, in a process
// of its own), then run the supervisor from there. Production runs this JavaScript: no TypeScript
// compiler loaded at run time (measured: tsx costs each process tens of MiB). Compiling takes about
// a second, so every start runs what the sources say.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const built = spawnSync(process.execPath, [resolve(root, "scripts/build-server.mjs")], { stdio: "inherit" });
if (built.status !== 0) {
  console.error(
    `[onair] compiling the server failed (${built.error?.message ?? `exit ${built.status ?? built.signal}`})`,
  );
  process.exit(1);
}
await import(resolve(root, "server/.build/start.mjs"));
