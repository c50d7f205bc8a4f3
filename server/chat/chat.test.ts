// Chat rules against a real database: text cleaning (emoji and CJK counted as people count them,
// controls and bidi overrides removed), the app's word filter, guests only where the room allows.
import { describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { findPublicRoom } from "../rooms";
import { callerOf, makeTenant, rejectsWith, uniq } from "../../test/helpers";
import { chatHistory, cleanChatText, filteredWord, sendChat } from ".";

describe("chat text", () => {
  it("keeps emoji and CJK whole, counts them as one, removes controls and bidi overrides", () => {
    expect(cleanChatText("  你好 👋🏽\u0007 \u202eevil\u202c  ")).toBe("你好 👋🏽 evil");
    expect(cleanChatText("a\n\n\n\nb")).toBe("a\n\nb");
    // 500 emoji are 500 characters (1,000 UTF-16 units): allowed; 501 are not.
    expect(cleanChatText("🎉".repeat(500))).toHaveLength(1000);
    expect(() => cleanChatText("🎉".repeat(501))).toThrow(/at most 500/);
    expect(() => cleanChatText(" \u200b\u0000 ".replace("\u200b", ""))).toThrow(/some text/);
  });
  it("finds the app's words case-insensitively", () => {
    expect(filteredWord("Buy CHEAP pills", "cheap\nspam")).toBe("cheap");
    expect(filteredWord("你好", "广告")).toBeUndefined();
    expect(filteredWord("看广告啦", "广告")).toBe("广告");
  });
});

describe("sending", () => {
  it("refuses the app's filtered words and lets guests chat only where the room allows it", async () => {
    const t = await makeTenant();
    const r = await callerOf(t.host).rooms.create({ title: uniq("chat") });
    await callerOf(t.host).rooms.start({ room: r.id });
    await callerOf(t.admin).apps.update({ id: t.app.id, chatWords: " 广告 \n\nSPAM\n" });
    const db = getDb();
    const room = await findPublicRoom(db, r.id);
    const viewer = { memberId: t.viewer.userId, nick: "v", role: 0, manager: false, guest: false };
    await rejectsWith(sendChat(db, room, viewer, { text: "看广告" }, new Date()), "CHAT_FILTERED");
    await rejectsWith(sendChat(db, room, viewer, { text: "no Spam here" }, new Date()), "CHAT_FILTERED");
    await sendChat(db, room, viewer, { text: "正常的消息 ✅" }, new Date());

    const guest = { memberId: `guest:${crypto.randomUUID()}`, nick: "", role: 0, manager: false, guest: true };
    await rejectsWith(sendChat(db, room, guest, { text: "hi", nick: "小明" }, new Date()), "UNAUTHENTICATED");
    await callerOf(t.host).rooms.update({ room: r.id, guestChat: true });
    const open = await findPublicRoom(db, r.id);
    await rejectsWith(sendChat(db, open, guest, { text: "hi" }, new Date()), "BAD_REQUEST");
    const m = await sendChat(db, open, guest, { text: "hi", nick: "小明" }, new Date());
    expect(m).toMatchObject({ nick: "小明", text: "hi", memberId: guest.memberId });
    expect((await chatHistory(db, open, { moderator: false })).map((x) => x.text)).toEqual(["正常的消息 ✅", "hi"]);

    await callerOf(t.host).rooms.stop({ room: r.id });
    const ended = await findPublicRoom(db, r.id);
    await rejectsWith(sendChat(db, ended, viewer, { text: "after" }, new Date()), "ILLEGAL_TRANSITION");
  });
});
