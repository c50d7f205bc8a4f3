// Validation errors say which rule each field broke, with its limits, so clients can put it in the
// person's language (zod's own text, "Too small: expected string to have >=1 characters", is English).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { badInput } from "./errors";
import { createRoomInput } from "./rooms";
import { createUserInput } from "./accounts";

const rulesOf = (schema: z.ZodType, input: unknown) => {
  const r = schema.safeParse(input);
  if (r.success) throw new Error("expected a validation error");
  return badInput(r.error.issues).details as { fields: Record<string, string>; rules: Record<string, unknown> };
};

describe("badInput", () => {
  it("sends each field's rule and limits along with zod's text", () => {
    const d = rulesOf(createRoomInput, { title: "   ", coverUrl: "ftp://x", mode: 7 });
    expect(d.fields.title).toEqual(expect.any(String));
    expect(d.rules).toEqual({
      title: { code: "too_small", origin: "string", min: 1 },
      coverUrl: { code: "custom", rule: "url" },
      mode: { code: "too_big", origin: "number", max: 2 },
    });
    expect(rulesOf(createRoomInput, { title: "x".repeat(257) }).rules.title).toEqual({
      code: "too_big",
      origin: "string",
      max: 256,
    });
  });

  it("names missing fields, formats and the first rule a field broke", () => {
    const d = rulesOf(createUserInput, { username: "ab", password: "short", role: "boss", appId: "1" });
    expect(d.rules.password).toEqual({ code: "too_small", origin: "string", min: 8 });
    expect(d.rules.role).toMatchObject({ code: "invalid_value" });
    expect(d.rules.appId).toMatchObject({ code: "invalid_type" });
    const u = rulesOf(z.object({ id: z.string().uuid() }), { id: "nope" });
    expect(u.rules.id).toMatchObject({ code: "invalid_format", format: "uuid" });
    expect(rulesOf(z.object({ n: z.number() }), {}).rules.n).toMatchObject({ code: "invalid_type" });
  });
});
