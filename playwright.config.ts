import { defineConfig } from "@playwright/test";
import { chromiumLaunch } from "./e2e/chromium";

// Browser journeys against a real onair (front, web, media), real MariaDB, real ffmpeg pushes and
// Debian's Chromium (Playwright's own browser download is not available here).
export default defineConfig({
  testDir: "e2e",
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  globalSetup: "./e2e/global-setup.ts",
  use: {
    launchOptions: chromiumLaunch,
    screenshot: "only-on-failure",
  },
});
