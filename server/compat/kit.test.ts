// The vendor handler answers whatever a route does: a result that cannot be written as JSON is
// answered with the failure envelope, not left as an unhandled rejection (which ends the process).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { createVendorHandler, routeTable, type VendorApi } from "./kit";

describe("vendor handler", () => {
  it("answers a result that is no JSON with the failure envelope, and goes on answering", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const api: VendorApi = {
      name: "test",
      route: routeTable({
        "POST /circular": () => Promise.resolve(circular),
        "POST /fine": () => Promise.resolve({ fine: true }),
        "POST /refused": () => Promise.reject(new AppError("BAD_REQUEST", "no")),
      }),
      body: { limit: 1024, notJson: () => new AppError("BAD_REQUEST", "not JSON") },
      ok: (data) => ({ status: 200, body: { code: 0, data } }),
      fail: (e) => {
        const bad = e instanceof AppError;
        return { status: bad ? 400 : 500, body: { code: bad ? 1 : 2 }, internal: !bad };
      },
    };
    const handle = createVendorHandler(api);
    const server = http.createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = async (path: string) => {
      const r = await fetch(`${base}${path}`, { method: "POST", body: "{}" });
      return [r.status, await r.json()];
    };
    try {
      expect(await post("/circular")).toEqual([500, { code: 2 }]);
      expect(await post("/refused")).toEqual([400, { code: 1 }]);
      expect(await post("/fine")).toEqual([200, { code: 0, data: { fine: true } }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
