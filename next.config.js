// Next.js settings for the console. The node servers in server/ answer /api/trpc and the hot paths.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["mysql2", "drizzle-orm"],
  typescript: { ignoreBuildErrors: false },
};
export default nextConfig;
