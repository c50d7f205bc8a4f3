// ffmpeg's error text repeats its input URLs; what onair logs of it carries no signature or token.
import { describe, expect, it } from "vitest";
import { redactUrls } from "./ffmpeg";

describe("redactUrls", () => {
  it("drops signatures, tokens and keys from URLs in ffmpeg's messages", () => {
    const text =
      "http://127.0.0.1:3002/live/s1.flv?sign=1795995785-6202bd8097a5c838149d07b553a24dae: Connection refused\n" +
      "rtmp://h/live/s2?key=pk3_abc&txSecret=ffff&txTime=6A&auth_key=1-2-3-abcd token=x?token=secret.sig";
    const out = redactUrls(text);
    for (const secret of ["6202bd8097a5c838149d07b553a24dae", "pk3_abc", "ffff", "1-2-3-abcd", "secret.sig"])
      expect(out).not.toContain(secret);
    expect(out).toContain("Connection refused");
    expect(out).toContain("txTime=6A");
  });
});
