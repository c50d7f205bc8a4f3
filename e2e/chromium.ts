// How onair's browser journeys and benchmark launch Debian's Chromium (Playwright's own browser
// download is not available): no sandbox (root in CI), no GPU, no background network, autoplay.
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ],
};
