// The npm registry reachable here serves only Linux x64 builds of packages with per-platform
// optional dependencies (Next's SWC, Tailwind's oxide, esbuild…), so `npm install` leaves the
// other platforms out of package-lock.json and `npm ci` then refuses the lock. This adds those
// entries back as optional, platform-restricted packages, which `npm ci` skips on this platform
// and installs normally elsewhere. Run after `npm install`: node scripts/lock-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const pkgs = lock.packages;
const platformOf = (name) => {
  const n = name.split("/").pop();
  const os = [
    "darwin",
    "win32",
    "linux",
    "android",
    "freebsd",
    "openbsd",
    "netbsd",
    "sunos",
    "aix",
    "openharmony",
  ].find((o) => n.includes(o));
  const cpu = ["arm64", "x64", "ia32", "arm", "ppc64", "s390x", "riscv64", "loong64", "mips64el", "wasm32"].find((c) =>
    n.includes(`-${c}`),
  );
  return { os, cpu };
};
let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = path ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    if (pkgs[base] || pkgs[`node_modules/${dep}`]) continue;
    const { os, cpu } = platformOf(dep);
    if (!os && !cpu) continue;
    const version = String(range).replace(/^[\^~=]/, "");
    pkgs[`node_modules/${dep}`] = {
      version,
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu === "wasm32" ? "wasm32" : cpu] } : {}),
      ...(dep.includes("musl") ? { libc: ["musl"] } : dep.includes("gnu") ? { libc: ["glibc"] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
console.log(`lock-platforms: added ${added} platform-specific optional entries`);
