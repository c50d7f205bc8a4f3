// Outbound HTTP to URLs that users supply (an app's callback URL): only to public addresses unless
// the operator lists an exception (OUTBOUND_ALLOW), pinned to the address that was checked (so a
// second DNS answer cannot rebind it), every redirect hop checked again, and the answer bounded in
// size and time. Nothing here follows proxies from the environment or keeps connections alive.
import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { env } from "../env";

export type AddressKind =
  "public" | "loopback" | "private" | "link-local" | "unspecified" | "cgnat" | "multicast" | "reserved" | "invalid";

export type OutboundReason = "bad_url" | "refused_address" | "timeout" | "too_large" | "too_many_redirects" | "network";

export class OutboundError extends Error {
  constructor(
    public readonly reason: OutboundReason,
    message: string,
  ) {
    super(message);
    this.name = "OutboundError";
  }
}

// ── 1. Addresses as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, ::ffff:a.b.c.d) ──────────────

type Bytes = Uint8Array;

function parseV4(s: string): number[] | undefined {
  if (isIP(s) !== 4) return undefined;
  return s.split(".").map(Number);
}

const mapped = (v4: number[]): Bytes => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);

/** An address literal as 16 bytes; brackets and an IPv6 zone (%eth0) are dropped. */
export function parseAddress(input: string): Bytes | undefined {
  const s = input.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseV4(s);
  if (v4) return mapped(v4);
  if (isIP(s) !== 6) return undefined;
  // Node validated the syntax; expand "::" and a trailing dotted IPv4 into eight groups.
  let groups: string[];
  const [head = "", tail] = s.split("::") as [string, string | undefined];
  const part = (p: string) => (p ? p.split(":") : []);
  const expandV4 = (gs: string[]) => {
    const last = gs.at(-1);
    const q = last !== undefined ? parseV4(last) : undefined;
    if (!q) return gs;
    return [...gs.slice(0, -1), ((q[0]! << 8) | q[1]!).toString(16), ((q[2]! << 8) | q[3]!).toString(16)];
  };
  if (tail === undefined) groups = expandV4(part(head));
  else {
    const h = part(head);
    const t = expandV4(part(tail));
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

interface Net {
  bytes: Bytes;
  bits: number;
}

function inNet(addr: Bytes, net: Net) {
  for (let i = 0; i < 16; i++) {
    const left = net.bits - i * 8;
    if (left <= 0) return true;
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((addr[i]! & mask) !== (net.bytes[i]! & mask)) return false;
  }
  return true;
}

/** "10.0.0.0/8", "fd00::/8", or a single address (a /32 or /128). IPv4 prefixes count in the mapped space. */
function parseCidr(s: string): Net | undefined {
  const [ip = "", prefix, extra] = s.split("/");
  if (extra !== undefined) return undefined;
  const bytes = parseAddress(ip);
  if (!bytes) return undefined;
  const v4 = isIP(ip.replace(/^\[(.*)\]$/, "$1")) === 4;
  const max = v4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  return { bytes, bits: v4 ? bits + 96 : bits };
}

const net = (s: string): Net => parseCidr(s)!;

/** Most specific first: the first match decides. */
const V4_TABLE: Array<[Net, AddressKind]> = [
  [net("0.0.0.0/32"), "unspecified"],
  [net("0.0.0.0/8"), "reserved"],
  [net("10.0.0.0/8"), "private"],
  [net("100.64.0.0/10"), "cgnat"],
  [net("127.0.0.0/8"), "loopback"],
  [net("169.254.0.0/16"), "link-local"],
  [net("172.16.0.0/12"), "private"],
  [net("192.0.0.0/24"), "reserved"],
  [net("192.0.2.0/24"), "reserved"],
  [net("192.88.99.0/24"), "reserved"],
  [net("192.168.0.0/16"), "private"],
  [net("198.18.0.0/15"), "reserved"],
  [net("198.51.100.0/24"), "reserved"],
  [net("203.0.113.0/24"), "reserved"],
  [net("224.0.0.0/4"), "multicast"],
  [net("240.0.0.0/4"), "reserved"],
];

const V6_TABLE: Array<[Net, AddressKind]> = [
  [net("::/128"), "unspecified"],
  [net("::1/128"), "loopback"],
  [net("::/96"), "reserved"], // IPv4-compatible (deprecated)
  [net("::ffff:0:0:0/96"), "reserved"], // IPv4-translated
  [net("64:ff9b:1::/48"), "private"], // local-use NAT64
  [net("100::/64"), "reserved"], // discard-only
  [net("2001:db8::/32"), "reserved"], // documentation
  [net("fc00::/7"), "private"],
  [net("fe80::/10"), "link-local"],
  [net("fec0::/10"), "private"], // site-local (deprecated)
  [net("ff00::/8"), "multicast"],
];

const MAPPED = net("::ffff:0:0/96");
const NAT64 = net("64:ff9b::/96");
const SIX_TO_FOUR = net("2002::/16");

function kindOf(a: Bytes): AddressKind {
  if (inNet(a, MAPPED)) {
    for (const [n, kind] of V4_TABLE) if (inNet(a, n)) return kind;
    return "public";
  }
  // An IPv6 address that carries an IPv4 address reaches that IPv4 address: judge it by that.
  if (inNet(a, NAT64)) return kindOf(mapped([...a.slice(12, 16)]));
  if (inNet(a, SIX_TO_FOUR)) return kindOf(mapped([...a.slice(2, 6)]));
  for (const [n, kind] of V6_TABLE) if (inNet(a, n)) return kind;
  return "public";
}

/** What kind of address `ip` is; only "public" ones are reachable without an operator's exception. */
export function addressKind(ip: string): AddressKind {
  const a = parseAddress(ip);
  return a ? kindOf(a) : "invalid";
}

// ── 2. The operator's exceptions ──────────────────────────────────────────────────────────────

export interface AllowList {
  hosts: ReadonlySet<string>;
  nets: readonly Net[];
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const normalHost = (h: string) => h.trim().toLowerCase().replace(/\.$/, "");

/** Entries are host names (matched exactly) or addresses and CIDRs; a bad entry throws. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const nets: Net[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const cidr = parseCidr(entry);
    if (cidr) nets.push(cidr);
    else if (!entry.includes("/") && HOST_NAME.test(normalHost(entry))) hosts.add(normalHost(entry));
    else throw new Error(`OUTBOUND_ALLOW: "${entry}" is neither a host name nor an address or CIDR`);
  }
  return { hosts, nets };
}

/** May a call to `host` connect to `address`? Public addresses always; others only by exception. */
export function permitted(allow: AllowList, host: string, address: string): boolean {
  if (addressKind(address) === "public") return true;
  if (allow.hosts.has(normalHost(host.replace(/^\[(.*)\]$/, "$1")))) return true;
  const a = parseAddress(address);
  return !!a && allow.nets.some((n) => inNet(a, n));
}

// ── 3. The fetch ─────────────────────────────────────────────────────────────────────────────

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface OutboundOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** For the whole call: look-ups, every hop and the body. */
  timeoutMs?: number;
  /** Larger answers fail with "too_large" (and the connection is cut), or are cut there with `truncate`. */
  maxBytes?: number;
  /** Keep the first maxBytes of a larger answer instead of failing (the answer is only shown, not read). */
  truncate?: boolean;
  maxRedirects?: number;
  /** The exceptions; default OUTBOUND_ALLOW. */
  allow?: readonly string[];
  /** Name resolution (tests); default dns.lookup with all addresses. */
  resolve?: (host: string) => Promise<ResolvedAddress[]>;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: string;
  body: Buffer;
  text(): string;
  /** The body as JSON, or undefined when it is not JSON. */
  json(): unknown;
}

export const OUTBOUND_DEFAULTS = { timeoutMs: 5000, maxBytes: 64 * 1024, maxRedirects: 3 } as const;

const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

function toUrl(input: string | URL, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw new OutboundError("bad_url", "not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new OutboundError("bad_url", `${url.protocol} URLs are not fetched`);
  if (url.username || url.password) throw new OutboundError("bad_url", "URLs with credentials are not fetched");
  return url;
}

function timeLeft(deadline: number) {
  const left = deadline - Date.now();
  if (left <= 0) throw new OutboundError("timeout", "timed out");
  return left;
}

/** Rejects with "timeout" when `p` does not settle before the deadline. */
async function beforeDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutboundError("timeout", "timed out")), timeLeft(deadline));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The addresses to connect to: every address of the host must be permitted (a mix is refused). */
export async function checkedAddresses(url: URL, allow: AllowList, opts: OutboundOptions, deadline: number) {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let found: ResolvedAddress[];
  if (isIP(host)) found = [{ address: host, family: isIP(host) }];
  else {
    try {
      found = await beforeDeadline((opts.resolve ?? systemResolve)(host), deadline);
    } catch (e) {
      if (e instanceof OutboundError) throw e;
      throw new OutboundError("network", `cannot resolve ${host}`);
    }
  }
  if (!found.length) throw new OutboundError("network", `cannot resolve ${host}`);
  const refused = found.find((a) => !permitted(allow, host, a.address));
  if (refused)
    throw new OutboundError("refused_address", `${host} resolves to a ${addressKind(refused.address)} address`);
  return found;
}

interface Hop {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function requestOnce(url: URL, to: ResolvedAddress[], opts: OutboundOptions, maxBytes: number, deadline: number) {
  const left = timeLeft(deadline);
  return new Promise<Hop>((resolve, reject) => {
    // The name is kept for the Host header, TLS SNI and certificate checks; the socket goes only
    // to the addresses checked (Node may try them in turn), never to a second look-up's answer.
    const pinned: LookupFunction = (_host, options, cb) => {
      if (options.all) cb(null, to);
      else cb(null, to[0]!.address, to[0]!.family);
    };
    const req = (url.protocol === "https:" ? https : http).request(url, {
      method: opts.method ?? "GET",
      headers: { "accept-encoding": "identity", ...opts.headers },
      agent: false,
      lookup: pinned,
    });
    const fail = (e: OutboundError) => {
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new OutboundError("timeout", "timed out")), left);
    req.on("error", (e) => fail(e instanceof OutboundError ? e : new OutboundError("network", e.message)));
    req.on("response", (res) => {
      if (!opts.truncate && Number(res.headers["content-length"] ?? 0) > maxBytes)
        return fail(new OutboundError("too_large", `answer larger than ${maxBytes} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBytes && opts.truncate) {
          chunks.push(c.subarray(0, c.length - (size - maxBytes)));
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
          return;
        }
        if (size > maxBytes) return fail(new OutboundError("too_large", `answer larger than ${maxBytes} bytes`));
        chunks.push(c);
      });
      res.on("error", (e) => fail(new OutboundError("network", e.message)));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end(opts.body);
  });
}

/** Fetches a user-supplied URL within the limits above; throws OutboundError for every refusal. */
export async function outboundFetch(input: string | URL, opts: OutboundOptions = {}): Promise<OutboundResponse> {
  const allow = parseAllowList(opts.allow ?? env().OUTBOUND_ALLOW);
  const maxBytes = opts.maxBytes ?? OUTBOUND_DEFAULTS.maxBytes;
  const maxRedirects = opts.maxRedirects ?? OUTBOUND_DEFAULTS.maxRedirects;
  const deadline = Date.now() + (opts.timeoutMs ?? OUTBOUND_DEFAULTS.timeoutMs);
  let url = toUrl(input);
  let hopOpts = opts;
  for (let redirects = 0; ; redirects++) {
    const to = await checkedAddresses(url, allow, hopOpts, deadline);
    const hop = await requestOnce(url, to, hopOpts, maxBytes, deadline);
    const location = hop.headers.location;
    if (hop.status >= 300 && hop.status < 400 && hop.status !== 304 && location) {
      if (redirects >= maxRedirects) throw new OutboundError("too_many_redirects", "too many redirects");
      url = toUrl(location, url);
      // 307/308 repeat the request as it was; the others continue with a GET.
      if (hop.status !== 307 && hop.status !== 308) hopOpts = { ...hopOpts, method: "GET", body: undefined };
      continue;
    }
    const body = hop.body;
    return {
      status: hop.status,
      headers: hop.headers,
      url: url.toString(),
      body,
      text: () => body.toString("utf8"),
      json: () => {
        try {
          return JSON.parse(body.toString("utf8")) as unknown;
        } catch {
          return undefined;
        }
      },
    };
  }
}
