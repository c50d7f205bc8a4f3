import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { aliyunA, nms, tencent } from "./signers";

describe("signing schemes (vendor vectors)", () => {
  it("Tencent txSecret", () => {
    const s = tencent.sign("e12c46f2612d5106e2034781ab261ca3", "test", 0x5c271099);
    expect(s).toEqual({ txTime: "5C271099", txSecret: "f85a2ab363fe4deaffef9754d79da6fe" });
    expect(tencent.verify("e12c46f2612d5106e2034781ab261ca3", "test", s, 0x5c271099 - 10)).toBe("ok");
    expect(tencent.verify("e12c46f2612d5106e2034781ab261ca3", "test", s, 0x5c271099 + 10)).toBe("expired");
    expect(tencent.verify("e12c46f2612d5106e2034781ab261ca3", "other", s, 0)).toBe("invalid");
  });

  it("node-media-server sign", () => {
    expect(createHash("md5").update("/live/stream-1503458721-nodemedia2017privatekey").digest("hex")).toBe(
      "80c1d1ad2e0c2ab63eebb50eed64201a",
    );
    expect(nms.sign("nodemedia2017privatekey", "/live/stream", 1503458721)).toBe(
      "1503458721-80c1d1ad2e0c2ab63eebb50eed64201a",
    );
    expect(
      nms.verify("nodemedia2017privatekey", "/live/stream", "1503458721-80c1d1ad2e0c2ab63eebb50eed64201a", 1503458000),
    ).toBe("ok");
    expect(
      nms.verify("nodemedia2017privatekey", "/live/other", "1503458721-80c1d1ad2e0c2ab63eebb50eed64201a", 1503458000),
    ).toBe("invalid");
    expect(
      nms.verify("nodemedia2017privatekey", "/live/stream", "1503458721-80c1d1ad2e0c2ab63eebb50eed64201a", 1503459000),
    ).toBe("expired");
  });

  it("Alibaba Cloud auth_key type A, one per URI", () => {
    // Alibaba's documented example: URI /video/standard/1K.html, ts 1444435200, rand 0, uid 0, key aliyuncdnexp1234.
    const k = aliyunA.sign("aliyuncdnexp1234", "/video/standard/1K.html", 1444435200, "0", "0");
    expect(k).toBe("1444435200-0-0-80cd3862d699b7118eed99103f2a3a4f");
    expect(aliyunA.verify("aliyuncdnexp1234", "/video/standard/1K.html", k, 1444435000)).toBe("ok");
    expect(aliyunA.verify("aliyuncdnexp1234", "/live/x.flv", k, 1444435000)).toBe("invalid");
    expect(aliyunA.verify("aliyuncdnexp1234", "/video/standard/1K.html", k, 1444435300)).toBe("expired");
    expect(aliyunA.sign("k", "/live/a.flv", 1, "r", "u")).not.toBe(aliyunA.sign("k", "/live/a.m3u8", 1, "r", "u"));
  });
});
