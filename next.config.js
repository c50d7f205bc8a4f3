// Next.js settings for the console. The node servers in server/ answer /api/trpc and the hot paths.
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./i18n/request.ts");

/**
 * The Content-Security-Policy of every page. Permissive where the app needs it: Next's inline
 * scripts and styles (no nonces), flv.js and hls.js playing through MSE (blob: media, hls.js's blob:
 * worker), pull and VOD URLs that may be on another host (an app's pull domain, nginx-rtmp's or SRS's
 * HTTP port), covers from any URL and QR codes as data: URLs. What it does forbid: plugins, a foreign
 * <base>, forms posting elsewhere, and being framed except where `frameAncestors` allows.
 */
const contentSecurityPolicy = (frameAncestors) =>
  [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https: http:",
    "font-src 'self' data:",
    "connect-src 'self' blob: data: https: http: wss: ws:",
    "media-src 'self' blob: data: https: http:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");

const everywhere = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["mysql2", "drizzle-orm", "@node-rs/argon2"],
  // Types are checked by `npm run lint` (`next typegen` for the routes' types, then tsc over the
  // whole project, before every test run), not again by each build: a first `npm start` spent
  // 22-49 s of its build on that (the longer beside the test suite's other worker).
  typescript: { ignoreBuildErrors: true },
  // `forbidden()` from next/navigation: console pages a role may not use answer HTTP 403.
  experimental: { authInterrupts: true },
  // Next applies every rule whose source matches, so the no-framing rule must skip /embed/<room>.
  async headers() {
    return [
      {
        source: "/((?!embed(?:/|$)).*)",
        headers: [
          ...everywhere,
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Content-Security-Policy", value: contentSecurityPolicy("'none'") },
        ],
      },
      {
        // The player alone, made to sit in an <iframe> on any site.
        source: "/embed/:path*",
        headers: [...everywhere, { key: "Content-Security-Policy", value: contentSecurityPolicy("*") }],
      },
    ];
  },
};
export default withNextIntl(nextConfig);
