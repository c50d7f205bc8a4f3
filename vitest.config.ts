import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The two files that take a minute or more start first (measured in fresh-clone CI: two-instances
 * 159 s, its two required minutes of reconciling; start-private 56-83 s, a first console build). Vitest
 * orders by the durations it cached, which a fresh clone lacks: two-instances then started after
 * 150 s and ran alone at the end, and the suite took 311 s where its two workers need about 270.
 */
const FIRST = ["server/media/two-instances.test.ts", "scripts/start-private.test.ts"];
class LongFirst extends BaseSequencer {
  async sort(files: TestSpecification[]) {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map((x) => x.f);
  }
}

export default defineConfig({
  resolve: { alias: { "@": new URL(".", import.meta.url).pathname } },
  test: {
    include: ["server/**/*.test.ts", "scripts/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
    allowOnly: !process.env.CI,
    sequence: { sequencer: LongFirst },
  },
});
