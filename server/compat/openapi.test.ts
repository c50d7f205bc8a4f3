// The OpenAPI documents list exactly what the adapters answer: every documented path is served,
// and every path an adapter serves is documented (so a route added without its docs fails here).
import { describe, expect, it } from "vitest";
import { auiApi, AUI_PATHS } from "./aui";
import { haoshitongApi, HST_ROUTES } from "./haoshitong";
import { ltApi, LT_ROUTES } from "./ltstream";
import { OPENAPI } from "./openapi";
import { polyvApi } from "./polyv";
import { sxbApi, SXB_COMMANDS } from "./sxb";
import type { VendorApi } from "./kit";

type Doc = { paths: Record<string, Record<string, unknown>> };
const docOf = (id: string) => OPENAPI[id] as Doc;

/** Each documented operation, with path templates filled in and the query split off. */
function operations(id: string) {
  return Object.entries(docOf(id).paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => {
      const [p = "", q = ""] = path.replace(/\{[^}]+\}/g, "123").split("?");
      return { method: method.toUpperCase(), path: p, query: new URLSearchParams(q), doc: path };
    }),
  );
}

describe("OpenAPI documents", () => {
  const apis: Record<string, VendorApi> = { aui: auiApi, sxb: sxbApi, polyv: polyvApi, haoshitong: haoshitongApi };
  it.each(Object.keys(apis))("every operation documented for %s is answered by its adapter", (id) => {
    for (const op of operations(id)) {
      expect(apis[id]!.route(op.method, op.path, op.query), op.doc).toBeDefined();
      // AUI answers every /api/v1/live/ path (unknown ones with 404): its own list is the measure.
      if (id === "aui") expect(AUI_PATHS, op.doc).toContain(op.path);
    }
  });

  it("LTStream: get_token and monitor_* are the adapter's; plays are the front's", () => {
    const ops = operations("ltstream");
    const third = ops.filter((o) => o.path.startsWith("/api/third/"));
    expect(third.map((o) => o.path).sort()).toEqual([...LT_ROUTES].sort());
    for (const o of third) expect(ltApi.route(o.method, o.path, o.query), o.doc).toBeDefined();
    expect(LT_ROUTES).toContain("/api/third/monitor_add");
    expect(ops.filter((o) => !third.includes(o)).map((o) => o.doc)).toEqual(["/live/{code}.ts", "/live/{code}.flv"]);
  });

  it("every path the adapters answer is documented", () => {
    const aui = operations("aui").map((o) => o.path);
    for (const path of AUI_PATHS) expect(aui, path).toContain(path);
    const sxb = operations("sxb").map((o) => `${o.query.get("svc")}/${o.query.get("cmd")}`);
    for (const cmd of SXB_COMMANDS) expect(sxb, cmd).toContain(cmd);
    const hst = operations("haoshitong").map((o) => `${o.method} ${o.path}`);
    for (const route of HST_ROUTES) expect(hst, route).toContain(route);
  });
});
