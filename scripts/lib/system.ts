// Finding and installing the Debian packages onair needs (MariaDB now; ffmpeg and chromium later).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export function findBinary(candidates: string[]): string | undefined {
  for (const c of candidates) {
    if (c.includes("/")) {
      if (existsSync(c)) return c;
      continue;
    }
    const r = spawnSync("sh", ["-c", `command -v ${c}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;
let aptUpdated = false;

/**
 * Installs Debian packages when we are root and apt-get exists; otherwise prints exactly what to
 * install and exits non-zero, so a missing dependency is never a silent failure.
 */
export function ensurePackages(what: string, packages: string[], present: () => boolean, alternative?: string): void {
  if (present()) return;
  const hasApt = !!findBinary(["apt-get"]);
  if (!isRoot() || !hasApt) {
    console.error(
      `onair needs ${what}, which is not installed.\n` +
        (hasApt
          ? `Install it with:  sudo apt-get install -y ${packages.join(" ")}\n`
          : `Install the packages providing ${packages.join(", ")} with your system's package manager.\n`) +
        (alternative ? `or ${alternative}.` : ""),
    );
    process.exit(1);
  }
  console.log(`[onair] installing ${packages.join(" ")} (${what}) with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], { stdio: "inherit", env });
  let r = aptUpdated ? install() : { status: 1 };
  if (r.status !== 0) {
    execFileSync("apt-get", ["update"], { stdio: "inherit", env });
    aptUpdated = true;
    r = install();
  }
  if (r.status !== 0 || !present()) {
    console.error(`[onair] apt-get could not install ${packages.join(" ")}; install it by hand and retry.`);
    process.exit(1);
  }
}
