// Source URLs: what may be stored, what may be shown, what the outbound rules allow, and how a
// failed pull is told (never with its URL).
import { describe, expect, it } from "vitest";
import { pullFailure } from "../media/pulls";
import { checkSourceAddress, mainOfSubStream, parseSourceUrl, shownUrl, sourceTarget, subStreamName } from ".";

describe("stream source URLs", () => {
  it("are shown as scheme and host only", () => {
    expect(shownUrl("rtsp://admin:pa55@10.0.0.5:554/Streaming/Channels/101?token=x")).toBe("rtsp://10.0.0.5:554");
    expect(shownUrl("https://cam.example.com/live/index.m3u8")).toBe("https://cam.example.com");
    expect(shownUrl("not a url")).toBe("");
  });

  it("take RTSP, RTMP, HTTP-FLV and HLS, nothing else", () => {
    for (const ok of ["rtsp://h/x", "rtsps://h/x", "rtmp://h/app/s", "http://h/a.flv", "https://h/i.m3u8"])
      expect(parseSourceUrl(ok).hostname).toBe("h");
    for (const bad of ["file:///etc/passwd", "concat:a|b", "ftp://h/x", "", `rtsp://h/${"x".repeat(2100)}`])
      expect(() => parseSourceUrl(bad), bad).toThrow(/source/i);
  });

  it("must reach a public address or one OUTBOUND_ALLOW lists", async () => {
    expect(await checkSourceAddress(new URL("rtsp://127.0.0.1/x"), [])).toMatch(/loopback/);
    expect(await checkSourceAddress(new URL("rtsp://192.168.1.20/x"), [])).toMatch(/private/);
    expect(await checkSourceAddress(new URL("rtsp://192.168.1.20/x"), ["192.168.1.0/24"])).toBeUndefined();
    expect(await checkSourceAddress(new URL("rtsp://[::1]/x"), ["127.0.0.1"])).toMatch(/loopback/);
    expect(await checkSourceAddress(new URL("rtsp://8.8.8.8/x"), [])).toBeUndefined();
  });

  it("are pulled from the address that was checked: a second DNS answer cannot rebind an RTSP camera", async () => {
    // A name that answers a public address to the check and a private one to whoever asks next.
    let asked = 0;
    const rebinding = () => Promise.resolve([asked++ ? "10.0.0.5" : "93.184.215.14"]);
    const t = await sourceTarget(new URL("rtsp://admin:pa55@cam.example:8554/Streaming/101?x=1"), [], rebinding);
    expect(t).toEqual({ url: "rtsp://admin:pa55@93.184.215.14:8554/Streaming/101?x=1" });
    expect(asked).toBe(1);
    // IPv6 answers in brackets; every answer is checked, the first is pulled.
    const v6 = () => Promise.resolve(["2001:db8::7", "93.184.215.15"]);
    expect((await sourceTarget(new URL("rtsp://cam.example/x"), ["2001:db8::/32"], v6)).url).toBe(
      "rtsp://[2001:db8::7]/x",
    );
    expect((await sourceTarget(new URL("rtsp://cam.example/x"), [], v6)).refused).toMatch(/not in OUTBOUND_ALLOW/);
    // Any refused answer refuses the source; no answer is no source.
    const mixed = () => Promise.resolve(["93.184.215.14", "127.0.0.1"]);
    expect((await sourceTarget(new URL("rtsp://cam.example/x"), [], mixed)).refused).toMatch(/loopback/);
    expect((await sourceTarget(new URL("rtsp://cam.example/x"), [], () => Promise.resolve([]))).refused).toMatch(
      /cannot resolve/,
    );
    expect(
      (await sourceTarget(new URL("rtsp://cam.example/x"), [], () => Promise.reject(new Error("ENOTFOUND")))).refused,
    ).toMatch(/cannot resolve cam.example/);
    // TLS and HTTP keep their name (certificates, virtual hosts); literal addresses stay as they are.
    const pub = () => Promise.resolve(["93.184.215.14"]);
    expect((await sourceTarget(new URL("https://cdn.example/live/i.m3u8"), [], pub)).url).toBe(
      "https://cdn.example/live/i.m3u8",
    );
    expect((await sourceTarget(new URL("rtsps://cam.example/x"), [], pub)).url).toBe("rtsps://cam.example/x");
    expect((await sourceTarget(new URL("rtsp://8.8.8.8/x"), [])).url).toBe("rtsp://8.8.8.8/x");
  });

  it("name a room's sub stream beside its own", () => {
    expect(mainOfSubStream(subStreamName("s0123abc"))).toBe("s0123abc");
    expect(mainOfSubStream("s0123abc")).toBeUndefined();
  });

  it("failures are told by kind", () => {
    expect(pullFailure("method DESCRIBE failed: 401 Unauthorized")).toBe("auth failed");
    expect(pullFailure("Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused")).toBe("unreachable");
    expect(pullFailure("Invalid data found when processing input")).toBe("codec");
    expect(pullFailure("", "source ended")).toBe("source ended");
  });
});
