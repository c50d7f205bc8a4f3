// Durations as the console and the watch page print them: whole seconds, as the video player beside them counts.
import { describe, expect, it } from "vitest";
import { fmtDuration } from "../lib/format";

describe("fmtDuration", () => {
  it("counts whole seconds elapsed, as a video player's clock does", () => {
    expect(fmtDuration(0)).toBe("0:00");
    expect(fmtDuration(999)).toBe("0:00");
    expect(fmtDuration(6_900)).toBe("0:06"); // Chromium's controls say 0:06 for this recording, not 0:07
    expect(fmtDuration(59_999)).toBe("0:59");
    expect(fmtDuration(61_000)).toBe("1:01");
    expect(fmtDuration(3_661_000)).toBe("1:01:01");
  });
});
