// The tRPC API: thin routers that validate input and call one domain verb each.
import { z } from "zod";
import * as accounts from "../accounts";
import * as apps from "../apps";
import { listAudit, listAuditInput } from "../audit";
import { dbHealth } from "../db/client";
import * as mic from "../mic";
import * as chat from "../chat";
import * as media from "../media/access";
import * as health from "../media/health";
import * as thumbnails from "../media/thumbnails";
import * as presence from "../presence";
import { presenceBuffer } from "../presence/buffer";
import * as recordings from "../recordings";
import * as rooms from "../rooms";
import * as sources from "../sources/rooms";
import * as overview from "../rooms/overview";
import * as again from "../rooms/again";
import * as refusals from "../media/refusals";
import { checkRoomToken, issueRoomToken, issueTokenInput, verifyTokenInput } from "../tokens/issue";
import { authedProcedure as authed, publicProcedure as pub, router } from "./init";
import { ROLES, SIGN_SCHEMES, SIGNUP_ROLES, WEBHOOK_EVENT_TYPES } from "../db/schema";
import * as webhooks from "../webhooks";

const roomOnly = z.object({ room: rooms.roomRef });
const idNum = z.object({ id: z.number().int().positive() });
const idUuid = z.object({ id: z.string().uuid() });

// The answers that carry secrets or keys, field by field: the output parser strips anything else a
// verb might come to return, so nothing leaks through these procedures unnoticed.
const publicAppOutput = z.object({
  id: z.number().int(),
  name: z.string(),
  accessKey: z.string(),
  callbackUrl: z.string().nullable(),
  enabled: z.boolean(),
  pushDomain: z.string().nullable(),
  pullDomain: z.string().nullable(),
  signScheme: z.enum(SIGN_SCHEMES),
  sxbSign: z.boolean(),
  auiDemoLogin: z.boolean(),
  signupRole: z.enum(SIGNUP_ROLES),
  createdAt: z.date(),
  updatedAt: z.date(),
});
const createAppOutput = z.object({ app: publicAppOutput, accessKey: z.string(), secret: z.string() });
const rotateSecretOutput = z.object({ id: z.number().int(), secret: z.string() });
const pushInfoOutput = z.object({
  server: z.string(),
  streamKey: z.string(),
  rtmp_url: z.string(),
  srt_url: z.string(),
  rts_url: z.string(),
  keyVersion: z.number().int(),
  streamName: z.string(),
  channelId: z.number().int(),
  channelPassword: z.string(),
});
const endpointOutput = z.object({
  id: z.number().int(),
  appId: z.number().int(),
  url: z.string(),
  description: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  enabled: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
const createEndpointOutput = z.object({ endpoint: endpointOutput, secret: z.string() });
const issuedTokenOutput = z.object({
  token: z.string(),
  expiresAt: z.date(),
  scope: z.enum(["play", "publish"]),
  roomId: z.string(),
  roomNum: z.number().int(),
});

export const appRouter = router({
  health: pub.query(async ({ ctx }) => ({ process: "web", db: await dbHealth(ctx.db) })),

  auth: router({
    register: pub.input(accounts.registerInput).mutation(({ ctx, input }) => accounts.register(ctx, input)),
    login: pub
      .input(accounts.loginInput)
      .mutation(({ ctx, input }) => accounts.login(ctx.db, ctx.clock, input, ctx.addr)),
    refresh: pub.input(accounts.refreshInput).mutation(({ ctx, input }) => accounts.refresh(ctx.db, ctx.clock, input)),
    logout: authed.mutation(({ ctx }) => accounts.logout(ctx)),
    me: authed.query(({ ctx }) => accounts.me(ctx)),
  }),

  apps: router({
    create: authed
      .input(apps.createAppInput)
      .output(createAppOutput)
      .mutation(({ ctx, input }) => apps.createApp(ctx, input)),
    list: authed.query(({ ctx }) => apps.listApps(ctx)),
    get: authed.input(idNum).query(({ ctx, input }) => apps.getApp(ctx, input.id)),
    update: authed.input(apps.updateAppInput).mutation(({ ctx, input }) => apps.updateApp(ctx, input)),
    rotateSecret: authed
      .input(idNum)
      .output(rotateSecretOutput)
      .mutation(({ ctx, input }) => apps.rotateAppSecret(ctx, input.id)),
  }),

  users: router({
    create: authed.input(accounts.createUserInput).mutation(({ ctx, input }) => accounts.createUser(ctx, input)),
    list: authed.input(accounts.listUsersInput).query(({ ctx, input }) => accounts.listUsers(ctx, input)),
    setDisabled: authed
      .input(idUuid.extend({ disabled: z.boolean() }))
      .mutation(({ ctx, input }) => accounts.setUserDisabled(ctx, input.id, input.disabled)),
    setRole: authed
      .input(idUuid.extend({ role: z.enum(ROLES) }))
      .mutation(({ ctx, input }) => accounts.setUserRole(ctx, input.id, input.role)),
    resetPassword: authed
      .input(idUuid.extend({ password: accounts.password }))
      .mutation(({ ctx, input }) => accounts.resetPassword(ctx, input.id, input.password)),
  }),

  rooms: router({
    create: authed.input(rooms.createRoomInput).mutation(({ ctx, input }) => rooms.createRoom(ctx, input)),
    get: authed.input(roomOnly).query(({ ctx, input }) => rooms.getRoom(ctx, input.room)),
    list: authed.input(rooms.listRoomsInput).query(({ ctx, input }) => rooms.listRooms(ctx, input)),
    update: authed.input(rooms.updateRoomInput).mutation(({ ctx, input }) => rooms.updateRoom(ctx, input)),
    start: authed.input(roomOnly).mutation(({ ctx, input }) => rooms.transitionRoom(ctx, input.room, "start")),
    pause: authed.input(roomOnly).mutation(({ ctx, input }) => rooms.transitionRoom(ctx, input.room, "pause")),
    resume: authed.input(roomOnly).mutation(({ ctx, input }) => rooms.transitionRoom(ctx, input.room, "resume")),
    stop: authed.input(roomOnly).mutation(({ ctx, input }) => rooms.transitionRoom(ctx, input.room, "stop")),
    delete: authed.input(roomOnly).mutation(({ ctx, input }) => rooms.deleteRoom(ctx, input.room)),
    goLiveAgain: authed.input(roomOnly).mutation(({ ctx, input }) => again.goLiveAgain(ctx, input.room)),
    overview: authed.query(({ ctx }) => overview.overview(ctx)),
    samples: authed.input(roomOnly).query(({ ctx, input }) => overview.samples(ctx, input.room)),
  }),

  presence: router({
    join: pub.input(presence.joinInput).mutation(({ ctx, input }) => presence.joinRoom(ctx, input)),
    heartbeat: pub
      .input(presence.heartbeatInput)
      .mutation(({ ctx, input }) => presence.heartbeat(presenceBuffer, input, ctx.clock.now())),
    leave: pub
      .input(presence.leaveInput)
      .mutation(({ ctx, input }) => presence.leaveRoom(ctx.db, input, ctx.clock.now())),
    kick: authed.input(presence.kickInput).mutation(({ ctx, input }) => presence.kickMember(ctx, input)),
    members: authed.input(presence.listMembersInput).query(({ ctx, input }) => presence.listMembers(ctx, input)),
  }),

  chat: router({
    history: authed.input(chat.chatHistoryInput).query(({ ctx, input }) => chat.listChat(ctx, input)),
    delete: authed.input(chat.chatDeleteInput).mutation(({ ctx, input }) => chat.deleteChat(ctx, input)),
    mute: authed.input(chat.chatMuteInput).mutation(({ ctx, input }) => chat.muteChat(ctx, input)),
  }),
  mic: router({
    request: authed.input(mic.micRoomInput).mutation(({ ctx, input }) => mic.requestMic(ctx, input)),
    cancel: authed.input(mic.micRoomInput).mutation(({ ctx, input }) => mic.cancelMic(ctx, input)),
    approve: authed.input(mic.micDecideInput).mutation(({ ctx, input }) => mic.approveMic(ctx, input)),
    reject: authed.input(mic.micDecideInput).mutation(({ ctx, input }) => mic.rejectMic(ctx, input)),
    report: authed.input(mic.micReportInput).mutation(({ ctx, input }) => mic.reportMic(ctx, input)),
    end: authed.input(mic.micDecideInput).mutation(({ ctx, input }) => mic.endMic(ctx, input)),
    requests: authed.input(mic.micRoomInput).query(({ ctx, input }) => mic.listMicRequests(ctx, input)),
    meetingInfo: authed.input(mic.micRoomInput).query(({ ctx, input }) => mic.getMeetingInfo(ctx, input)),
    updateMeetingInfo: authed
      .input(mic.updateMeetingInput)
      .mutation(({ ctx, input }) => mic.updateMeetingInfo(ctx, input)),
  }),

  recordings: router({
    create: authed
      .input(recordings.createRecordingInput)
      .mutation(({ ctx, input }) => recordings.createRecording(ctx, input)),
    list: authed.input(recordings.listRecordingsInput).query(({ ctx, input }) => recordings.listRecordings(ctx, input)),
    get: authed.input(idUuid).query(({ ctx, input }) => recordings.getRecording(ctx, input.id)),
    delete: authed.input(idUuid).mutation(({ ctx, input }) => recordings.deleteRecording(ctx, input.id)),
  }),

  tokens: router({
    issue: authed
      .input(issueTokenInput)
      .output(issuedTokenOutput)
      .mutation(({ ctx, input }) => issueRoomToken(ctx, input)),
    verify: pub.input(verifyTokenInput).query(({ ctx, input }) => checkRoomToken(input, ctx.clock.now())),
  }),

  media: router({
    pushInfo: authed
      .input(roomOnly)
      .output(pushInfoOutput)
      .query(({ ctx, input }) => media.getPushInfo(ctx, input.room)),
    rotateKey: authed
      .input(roomOnly)
      .output(pushInfoOutput)
      .mutation(({ ctx, input }) => media.rotatePublishKey(ctx, input.room)),
    pullUrls: pub.input(media.pullInput).query(({ ctx, input }) => media.getPullUrls(ctx, input)),
    vodUrl: authed.input(idUuid).query(({ ctx, input }) => media.getVodUrl(ctx, input.id)),
    downloadUrl: authed.input(idUuid).query(({ ctx, input }) => media.getDownloadUrl(ctx, input.id)),
    replay: pub.input(media.replayInput).query(({ ctx, input }) => media.getReplay(ctx, input)),
    /** The chat sent while a replay's recording was live, to show in step with it. */
    replayChat: pub.input(media.replayChatInput).query(({ ctx, input }) => media.getReplayChat(ctx, input)),
    refusals: authed.input(refusals.listRefusalsInput).query(({ ctx, input }) => refusals.listRefusals(ctx, input)),
    sampleUrls: authed.input(idNum).query(({ ctx, input }) => media.sampleUrls(ctx, input.id)),
    /** The room's stream health (its host and its app's admins). */
    health: authed.input(roomOnly).query(({ ctx, input }) => health.roomHealth(ctx, input.room)),
    /** Cover or live thumbnail of each listed room (ids the caller may see). */
    pictures: authed
      .input(z.object({ rooms: z.array(z.string().uuid()).max(100) }))
      .query(({ ctx, input }) => thumbnails.roomPictures(ctx, input.rooms)),
  }),

  // Stream sources of rooms (admins): the answers show a source's URL as scheme and host only.
  sources: router({
    list: authed
      .input(roomOnly)
      .output(z.array(sources.sourceViewOutput))
      .query(({ ctx, input }) => sources.listRoomSources(ctx, input.room)),
    set: authed
      .input(sources.setSourceInput)
      .output(sources.sourceViewOutput)
      .mutation(({ ctx, input }) => sources.setRoomSource(ctx, input)),
    remove: authed.input(sources.sourceRefInput).mutation(({ ctx, input }) => sources.removeRoomSource(ctx, input)),
    probe: authed
      .input(sources.sourceRefInput)
      .output(sources.probeOutput)
      .mutation(({ ctx, input }) => sources.probeRoomSource(ctx, input)),
  }),

  audit: router({
    list: authed.input(listAuditInput).query(({ ctx, input }) => listAudit(ctx, input)),
  }),

  webhooks: router({
    list: authed
      .input(webhooks.listEndpointsInput)
      .output(z.array(endpointOutput))
      .query(({ ctx, input }) => webhooks.listEndpoints(ctx, input)),
    create: authed
      .input(webhooks.createEndpointInput)
      .output(createEndpointOutput)
      .mutation(({ ctx, input }) => webhooks.createEndpoint(ctx, input)),
    update: authed
      .input(webhooks.updateEndpointInput)
      .output(endpointOutput)
      .mutation(({ ctx, input }) => webhooks.updateEndpoint(ctx, input)),
    delete: authed.input(idNum).mutation(({ ctx, input }) => webhooks.deleteEndpoint(ctx, input.id)),
    rotateSecret: authed
      .input(idNum)
      .output(rotateSecretOutput)
      .mutation(({ ctx, input }) => webhooks.rotateEndpointSecret(ctx, input.id)),
    deliveries: authed
      .input(webhooks.listDeliveriesInput)
      .query(({ ctx, input }) => webhooks.listDeliveries(ctx, input)),
    attempts: authed.input(webhooks.listAttemptsInput).query(({ ctx, input }) => webhooks.listAttempts(ctx, input)),
    redeliver: authed.input(idNum).mutation(({ ctx, input }) => webhooks.redeliver(ctx, input.id)),
  }),
});

export type AppRouter = typeof appRouter;
