// Source URLs: what may be stored, what may be shown, what the outbound rules allow, and how a
// failed pull is told (never with its URL).
import net from "node:net";
import { describe, expect, it } from "vitest";
import { run } from "../media/ffmpeg";
import { pullFailure } from "../media/pulls";
import { checkSourceAddress, mainOfSubStream, parseSourceUrl, rtmpApp, shownUrl, sourceTarget, subStreamName } from ".";

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
    expect(t).toEqual({ url: "rtsp://admin:pa55@93.184.215.14:8554/Streaming/101?x=1", args: [] });
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
    // TLS and HTTP keep their name (certificates, virtual hosts; the checking proxy connects them to the
    // checked address, source-proxy.test.ts); literal addresses stay as they are.
    const pub = () => Promise.resolve(["93.184.215.14"]);
    expect((await sourceTarget(new URL("https://cdn.example/live/i.m3u8"), [], pub)).url).toBe(
      "https://cdn.example/live/i.m3u8",
    );
    expect((await sourceTarget(new URL("rtsps://cam.example/x"), [], pub)).url).toBe("rtsps://cam.example/x");
    expect((await sourceTarget(new URL("rtsp://8.8.8.8/x"), [])).url).toBe("rtsp://8.8.8.8/x");
  });

  it("pull RTMP from the address that was checked, with the name in the tcUrl as ffmpeg would send it", async () => {
    let asked = 0;
    const rebinding = () => Promise.resolve([asked++ ? "10.0.0.5" : "93.184.215.14"]);
    expect(await sourceTarget(new URL("rtmp://u:p@live.example/live/cam1?sign=a/b"), [], rebinding)).toEqual({
      url: "rtmp://u:p@93.184.215.14/live/cam1?sign=a/b",
      // ffmpeg's own split: "live/cam1?sign=a" is the application when the query holds a '/'.
      args: ["-rtmp_tcurl", "rtmp://live.example:1935/live/cam1?sign=a"],
    });
    expect(asked).toBe(1);
    const pub = () => Promise.resolve(["93.184.215.14"]);
    expect(await sourceTarget(new URL("rtmp://live.example:1936/app/inst/stream"), [], pub)).toEqual({
      url: "rtmp://93.184.215.14:1936/app/inst/stream",
      args: ["-rtmp_tcurl", "rtmp://live.example:1936/app/inst"],
    });
    // Where ffmpeg versions split the application differently, the name is kept (checked as of now).
    for (const kept of [
      "rtmp://live.example/stream",
      "rtmp://live.example/ondemand/a/b",
      "rtmp://live.example/a/b?slist=c",
    ])
      expect(await sourceTarget(new URL(kept), [], pub)).toEqual({ url: kept, args: [] });
    expect(
      (await sourceTarget(new URL("rtmp://live.example/live/s"), [], () => Promise.resolve(["10.0.0.5"]))).refused,
    ).toMatch(/private/);
  });

  it("reach an RTMP server at the checked address, which sees the name in the connect's tcUrl (real ffprobe)", async () => {
    // A bare RTMP endpoint: the handshake, then whatever the client sends (its connect command).
    const got: Buffer[] = [];
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      let shaken = false;
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        if (!shaken && buf.length >= 1537) {
          shaken = true;
          sock.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), buf.subarray(1, 1537)]));
          buf = buf.subarray(1537);
        }
        if (shaken) got.push(d);
      });
      sock.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const resolver = () => Promise.resolve(["127.0.0.1"]);
      const t = await sourceTarget(new URL(`rtmp://cam.test:${port}/live/cam1?sign=x`), ["127.0.0.1"], resolver);
      if (t.refused !== undefined) throw new Error(t.refused);
      expect(t.url).toBe(`rtmp://127.0.0.1:${port}/live/cam1?sign=x`);
      await run("ffprobe", ["-v", "error", "-rw_timeout", "1500000", ...t.args, "-i", t.url], 2500);
      // Type-3 chunk headers (0xC3) may cut the command every 128 bytes.
      const sent = Buffer.from(Buffer.concat(got).filter((b) => b !== 0xc3)).toString("latin1");
      expect(sent).toContain("connect");
      expect(sent).toContain(`rtmp://cam.test:${port}/live`);
      expect(sent).not.toContain(`rtmp://127.0.0.1:${port}/live`);
    } finally {
      server.close();
    }
  });

  it("split RTMP applications as ffmpeg does", () => {
    expect(rtmpApp("/live/stream")).toBe("live");
    expect(rtmpApp("/live/stream?key=1")).toBe("live");
    expect(rtmpApp("/app/inst/stream")).toBe("app/inst");
    expect(rtmpApp("/app/mp4:dir/file.mp4")).toBe("app");
    expect(rtmpApp("/stream")).toBeNull();
    expect(rtmpApp("/ondemand/x/y")).toBeNull();
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
