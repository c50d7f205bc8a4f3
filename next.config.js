// Next.js settings for the console. The node servers in server/ answer /api/trpc and the hot paths.
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./i18n/request.ts");

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["mysql2", "drizzle-orm"],
  typescript: { ignoreBuildErrors: false },
};
export default withNextIntl(nextConfig);
