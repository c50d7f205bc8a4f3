import { defineConfig } from "drizzle-kit";

// Migrations are generated (`npm run db:generate`) and committed; `npm start` applies them.
export default defineConfig({
  dialect: "mysql",
  schema: "./server/db/schema/index.ts",
  out: "./server/db/migrations",
});
