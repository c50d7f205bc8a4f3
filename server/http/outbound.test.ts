// Outbound calls to user-supplied URLs: the address classifier, the operator's allow list, and
// fetches against real local servers (refused before connecting, pinned to the checked address,
// redirects re-checked, answers cut off by size and time).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env, resetEnvForTests } from "../env";
import { addressKind, outboundFetch, OutboundError, parseAllowList, permitted, type AddressKind } from "./outbound";

describe("addressKind", () => {
  const table: Array<[string, AddressKind]> = [
    // IPv4
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["93.184.216.34", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "reserved"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.15.255.255", "public"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.0.1", "private"],
    ["192.169.0.1", "public"],
    ["169.254.169.254", "link-local"],
    ["169.253.1.1", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["100.128.0.1", "public"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    // IPv6
    ["::", "unspecified"],
    ["0:0:0:0:0:0:0:0", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["[::1]", "loopback"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fc00::1", "private"],
    ["fd12:3456:789a::1", "private"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["ff05::1:3", "multicast"],
    ["2606:4700:4700::1111", "public"],
    ["2001:4860:4860::8888", "public"],
    ["2001:db8::1", "reserved"],
    ["::127.0.0.1", "reserved"],
    // IPv4-mapped IPv6 forms are the IPv4 address they carry
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:7f00:0001", "loopback"],
    ["::FFFF:10.1.2.3", "private"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["::ffff:100.64.0.1", "cgnat"],
    ["::ffff:224.0.0.1", "multicast"],
    ["::ffff:8.8.8.8", "public"],
    // IPv4 carried by NAT64 and 6to4 prefixes is judged by that IPv4 address
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::8.8.8.8", "public"],
    ["2002:c0a8:0101::1", "private"],
    ["2002:0808:0808::1", "public"],
    // anything that does not parse is refused
    ["", "invalid"],
    ["localhost", "invalid"],
    ["127.1", "invalid"],
    ["1.2.3.256", "invalid"],
    ["1::2::3", "invalid"],
    ["::ffff:1.2.3", "invalid"],
  ];
  it.each(table)("%s is %s", (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });
});

describe("allow list", () => {
  const allow = parseAllowList(["127.0.0.1", "10.1.0.0/16", "fd00::/8", "Callbacks.Internal."]);
  it("lets listed hosts and CIDRs through, IPv4-mapped forms included, and nothing else internal", () => {
    expect(permitted(allow, "example.com", "127.0.0.1")).toBe(true);
    expect(permitted(allow, "example.com", "::ffff:127.0.0.1")).toBe(true);
    expect(permitted(allow, "example.com", "127.0.0.2")).toBe(false);
    expect(permitted(allow, "example.com", "10.1.200.3")).toBe(true);
    expect(permitted(allow, "example.com", "10.2.0.1")).toBe(false);
    expect(permitted(allow, "example.com", "fd12::1")).toBe(true);
    expect(permitted(allow, "example.com", "fc00::1")).toBe(false);
    expect(permitted(allow, "callbacks.internal", "192.168.1.1")).toBe(true);
    expect(permitted(allow, "other.internal", "192.168.1.1")).toBe(false);
    expect(permitted(allow, "example.com", "8.8.8.8")).toBe(true);
    expect(permitted(parseAllowList([]), "localhost", "::1")).toBe(false);
  });
  it("refuses entries that are neither a host name nor an address or CIDR", () => {
    expect(() => parseAllowList(["10.0.0.0/33"])).toThrow();
    expect(() => parseAllowList(["http://x"])).toThrow();
    expect(() => parseAllowList(["::1/129"])).toThrow();
  });
});

describe("OUTBOUND_ALLOW", () => {
  const withSetting = <T>(value: string | undefined, fn: () => T): T => {
    const before = process.env.OUTBOUND_ALLOW;
    if (value === undefined) delete process.env.OUTBOUND_ALLOW;
    else process.env.OUTBOUND_ALLOW = value;
    resetEnvForTests();
    try {
      return fn();
    } finally {
      if (before === undefined) delete process.env.OUTBOUND_ALLOW;
      else process.env.OUTBOUND_ALLOW = before;
      resetEnvForTests();
    }
  };
  it("is empty by default, a trimmed list when set, and every entry it accepts is one the fetch accepts", () => {
    expect(withSetting(undefined, () => env().OUTBOUND_ALLOW)).toEqual([]);
    const list = withSetting(
      " 127.0.0.1, 10.0.0.0/8 ,,fd00::/8, [::1], callbacks.internal, Hooks.Example. ",
      () => env().OUTBOUND_ALLOW,
    );
    expect(list).toEqual(["127.0.0.1", "10.0.0.0/8", "fd00::/8", "[::1]", "callbacks.internal", "Hooks.Example."]);
    expect(() => parseAllowList(list)).not.toThrow();
  });
  it.each(["10.0.0.0/33", "::1/129", "http://x", "a..b", "-x.example", "10.0.0.0/8/1", "x_y.example"])(
    "refuses %s at start-up",
    (entry) => {
      expect(() => withSetting(entry, () => env())).toThrow(/OUTBOUND_ALLOW/);
      expect(() => parseAllowList([entry])).toThrow();
    },
  );
});

describe("outboundFetch", () => {
  let server: http.Server;
  let port: number;
  const hits: string[] = [];
  let hugeSent = 0;
  let hugeClosed: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(`${req.headers.host} ${req.url}`);
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/ok") return void res.end('{"ok":true}');
      if (url.pathname === "/slow") return void setTimeout(() => res.end("late"), 3000);
      if (url.pathname === "/redirect") {
        const to = url.searchParams.get("to") ?? "/ok";
        return void res.writeHead(302, { location: to }).end();
      }
      if (url.pathname === "/bad-location") return void res.writeHead(302, { location: "http://[nope/" }).end();
      if (url.pathname === "/gopher") return void res.writeHead(302, { location: "gopher://127.0.0.1/" }).end();
      if (url.pathname === "/loop") return void res.writeHead(302, { location: "/loop" }).end();
      if (url.pathname === "/huge") {
        // 200 MB, written as fast as the reader takes it, no content-length.
        hugeSent = 0;
        const chunk = Buffer.alloc(64 * 1024, "x");
        hugeClosed = new Promise((r) => res.on("close", () => r()));
        res.writeHead(200, { "content-type": "application/json" });
        const pump = () => {
          while (hugeSent < 200 * 1024 * 1024 && !res.destroyed) {
            hugeSent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      if (url.pathname === "/declared") {
        res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
        return void res.write("x");
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const reason = (p: Promise<unknown>) =>
    p.then(
      () => "answered",
      (e: unknown) => (e instanceof OutboundError ? e.reason : `unexpected: ${String(e)}`),
    );

  it("refuses loopback, by address or by name, before connecting", async () => {
    const before = hits.length;
    const started = Date.now();
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/ok`, { allow: [] }))).toBe("refused_address");
    expect(await reason(outboundFetch(`http://[::1]:${port}/ok`, { allow: [] }))).toBe("refused_address");
    expect(await reason(outboundFetch(`http://localhost:${port}/ok`, { allow: [] }))).toBe("refused_address");
    expect(await reason(outboundFetch(`http://2130706433:${port}/ok`, { allow: [] }))).toBe("refused_address");
    expect(await reason(outboundFetch(`http://[::ffff:127.0.0.1]:${port}/ok`, { allow: [] }))).toBe("refused_address");
    expect(await reason(outboundFetch(`http://169.254.169.254/latest/meta-data/`, { allow: [] }))).toBe(
      "refused_address",
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hits.length).toBe(before);
  });

  it("refuses a name when any of its addresses is internal", async () => {
    const resolve = () =>
      Promise.resolve([
        { address: "93.184.216.34", family: 4 },
        { address: "10.0.0.7", family: 4 },
      ]);
    expect(await reason(outboundFetch("http://mixed.example/", { allow: [], resolve }))).toBe("refused_address");
  });

  it("refuses URLs that are not http(s) and answers allowed ones", async () => {
    expect(await reason(outboundFetch("file:///etc/passwd", { allow: [] }))).toBe("bad_url");
    expect(await reason(outboundFetch("not a url", { allow: [] }))).toBe("bad_url");
    const r = await outboundFetch(`http://127.0.0.1:${port}/ok`, { allow: ["127.0.0.1"] });
    expect([r.status, r.json()]).toEqual([200, { ok: true }]);
  });

  it("takes its exceptions from OUTBOUND_ALLOW when none are given", async () => {
    const url = `http://127.0.0.1:${port}/ok`;
    process.env.OUTBOUND_ALLOW = "127.0.0.0/8";
    resetEnvForTests();
    try {
      expect((await outboundFetch(url)).status).toBe(200);
    } finally {
      delete process.env.OUTBOUND_ALLOW;
      resetEnvForTests();
    }
    expect(await reason(outboundFetch(url))).toBe("refused_address");
  });

  it("connects to the address it checked, not to a second look-up of the name (DNS rebinding)", async () => {
    let lookups = 0;
    const resolve = () => {
      lookups++;
      return Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    };
    // "callback.invalid" resolves nowhere in real DNS: an answer proves the pinned address was used.
    const r = await outboundFetch(`http://callback.invalid:${port}/ok`, { allow: ["127.0.0.1"], resolve });
    expect(r.status).toBe(200);
    expect(lookups).toBe(1);
    expect(hits.at(-1)).toBe(`callback.invalid:${port} /ok`);
  });

  it("re-checks every redirect hop and stops after three", async () => {
    const ok = await outboundFetch(`http://127.0.0.1:${port}/redirect?to=/ok`, { allow: ["127.0.0.1"] });
    expect([ok.status, ok.url]).toEqual([200, `http://127.0.0.1:${port}/ok`]);
    const before = hits.length;
    const to = encodeURIComponent(`http://[::1]:${port}/ok`);
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/redirect?to=${to}`, { allow: ["127.0.0.1"] }))).toBe(
      "refused_address",
    );
    expect(hits.length).toBe(before + 1); // the first hop only
    const meta = encodeURIComponent("http://169.254.169.254/");
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/redirect?to=${meta}`, { allow: ["127.0.0.1"] }))).toBe(
      "refused_address",
    );
    for (const path of ["/bad-location", "/gopher"])
      expect(await reason(outboundFetch(`http://127.0.0.1:${port}${path}`, { allow: ["127.0.0.1"] }))).toBe("bad_url");
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/loop`, { allow: ["127.0.0.1"] }))).toBe(
      "too_many_redirects",
    );
    expect(
      await reason(outboundFetch(`http://127.0.0.1:${port}/redirect`, { allow: ["127.0.0.1"], maxRedirects: 0 })),
    ).toBe("too_many_redirects");
  });

  it("cuts off an answer larger than maxBytes, streamed or declared, without reading it", async () => {
    const started = Date.now();
    const used = process.memoryUsage().rss;
    expect(
      await reason(outboundFetch(`http://127.0.0.1:${port}/huge`, { allow: ["127.0.0.1"], maxBytes: 64 * 1024 })),
    ).toBe("too_large");
    await hugeClosed;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hugeSent).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().rss - used).toBeLessThan(64 * 1024 * 1024);
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/declared`, { allow: ["127.0.0.1"] }))).toBe(
      "too_large",
    );
  });

  it("gives up at the time limit", async () => {
    const started = Date.now();
    expect(await reason(outboundFetch(`http://127.0.0.1:${port}/slow`, { allow: ["127.0.0.1"], timeoutMs: 300 }))).toBe(
      "timeout",
    );
    expect(Date.now() - started).toBeLessThan(1000);
    // A look-up that never answers is bounded by the same limit.
    const hang = () => new Promise<Array<{ address: string; family: number }>>(() => undefined);
    expect(await reason(outboundFetch("http://hang.example/", { allow: [], resolve: hang, timeoutMs: 200 }))).toBe(
      "timeout",
    );
  });
});
