// The FLV wire format, read for stream health: tags in, running figures out (frame rate, bitrates,
// keyframe interval, codecs, size). Pure — no sockets, no database — so the same reader serves any
// FLV source (the embedded server's HTTP-FLV today) and is tested with bytes.
import { decodeAmf0Data } from "node-media-server/src/protocol/amf.js";
import { parseH264Sps } from "node-media-server/src/protocol/sps_info.js";

/** One interval's reading of a stream: what the stream itself says, null where it said nothing yet. */
export interface FlvReading {
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  /** Video frames per second of stream time in the interval. */
  fps: number | null;
  /** The frame rate the encoder announced in onMetaData. */
  nominalFps: number | null;
  videoKbps: number | null;
  audioCodec: string | null;
  audioKbps: number | null;
  /** Stream time between the last two keyframes (longer while the next one is overdue). */
  keyframeIntervalMs: number | null;
}

const VIDEO_CODECS: Record<number, string> = { 2: "H263", 4: "VP6", 7: "H264", 12: "HEVC", 13: "AV1" };
const VIDEO_FOURCC: Record<string, string> = { avc1: "H264", hvc1: "HEVC", av01: "AV1", vp09: "VP9" };
const AUDIO_CODECS: Record<number, string> = { 0: "PCM", 2: "MP3", 3: "PCM", 10: "AAC", 11: "Speex", 13: "Opus" };
/** A tag larger than this is not a live stream's (and would make the reader buffer without bound). */
const MAX_TAG_BYTES = 16 * 1024 * 1024;

export class FlvStats {
  private pending: Buffer = Buffer.alloc(0);
  private headerLeft = 13; // "FLV", version, flags, header size (9 bytes) + the first PreviousTagSize
  private videoCodec: string | null = null;
  private audioCodec: string | null = null;
  private width: number | null = null;
  private height: number | null = null;
  private nominalFps: number | null = null;
  private lastKeyTs: number | null = null;
  private keyInterval: number | null = null;
  private lastVideoTs: number | null = null;
  private lastTs: number | null = null;
  // The interval being read: counts since the last take(), and the stream time it started at.
  private frames = 0;
  private videoBytes = 0;
  private audioBytes = 0;
  private windowStartTs: number | null = null;
  private windowStartVideoTs: number | null = null;
  /** Whether the frame the interval starts at is one of its own frames (only in the first interval). */
  private startCounted = false;

  /** Feeds bytes as they arrive (any chunking). Throws on something that is not FLV. */
  push(chunk: Buffer) {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.headerLeft > 0) {
      if (this.headerLeft === 13 && buf.length >= 3 && buf.toString("latin1", 0, 3) !== "FLV")
        throw new Error("not an FLV stream");
      const skip = Math.min(this.headerLeft, buf.length);
      this.headerLeft -= skip;
      buf = buf.subarray(skip);
    }
    let at = 0;
    while (buf.length - at >= 11) {
      const type = buf[at]! & 0x1f;
      const size = buf.readUIntBE(at + 1, 3);
      if (size > MAX_TAG_BYTES) throw new Error("FLV tag too large");
      if (buf.length - at < 11 + size + 4) break;
      const ts = (buf.readUIntBE(at + 4, 3) | (buf[at + 7]! << 24)) >>> 0;
      this.tag(type, ts, buf.subarray(at + 11, at + 11 + size));
      at += 11 + size + 4;
    }
    this.pending = Buffer.from(buf.subarray(at));
  }

  private tag(type: number, ts: number, data: Buffer) {
    if (!data.length) return;
    if (type === 18) return this.script(data);
    if (type !== 8 && type !== 9) return;
    this.lastTs = ts;
    this.windowStartTs ??= ts;
    if (type === 8) {
      this.audioCodec = AUDIO_CODECS[data[0]! >> 4] ?? `audio${data[0]! >> 4}`;
      this.audioBytes += data.length;
      return;
    }
    this.videoBytes += data.length;
    const b0 = data[0]!;
    let frameType: number;
    let isHeader: boolean;
    if (b0 & 0x80) {
      // Enhanced RTMP: a FourCC names the codec; packet type 0 is the sequence start.
      frameType = (b0 >> 4) & 0x07;
      const fourcc = data.toString("latin1", 1, 5);
      this.videoCodec = VIDEO_FOURCC[fourcc] ?? fourcc;
      isHeader = (b0 & 0x0f) === 0;
    } else {
      frameType = b0 >> 4;
      const codec = b0 & 0x0f;
      this.videoCodec = VIDEO_CODECS[codec] ?? `video${codec}`;
      isHeader = (codec === 7 || codec === 12) && data[1] === 0;
      if (isHeader && codec === 7) this.avcConfig(data.subarray(5));
    }
    if (isHeader || frameType === 5) return; // configuration and command frames are not pictures
    this.frames++;
    if (this.windowStartVideoTs === null) {
      // The very first frame opens the first interval; later intervals start at the previous one's last frame.
      this.startCounted = this.lastVideoTs === null;
      this.windowStartVideoTs = this.lastVideoTs ?? ts;
    }
    this.lastVideoTs = ts;
    if (frameType === 1) {
      if (this.lastKeyTs !== null && ts > this.lastKeyTs) this.keyInterval = ts - this.lastKeyTs;
      this.lastKeyTs = ts;
    }
  }

  /** AVCDecoderConfigurationRecord: the first SPS gives the picture size. */
  private avcConfig(rec: Buffer) {
    if (rec.length < 8 || !(rec[5]! & 0x1f)) return;
    const len = rec.readUInt16BE(6);
    const size = rec.length >= 8 + len ? parseH264Sps(rec.subarray(8, 8 + len)) : null;
    if (size && size.width > 0 && size.height > 0) [this.width, this.height] = [size.width, size.height];
  }

  private script(data: Buffer) {
    try {
      const meta = decodeAmf0Data(data).dataObj;
      if (!meta || typeof meta !== "object") return;
      const num = (k: string) => {
        const v = meta[k];
        return typeof v === "number" && v > 0 ? v : null;
      };
      if (num("width") && num("height") && this.width === null)
        [this.width, this.height] = [num("width"), num("height")];
      this.nominalFps = num("framerate") ?? this.nominalFps;
    } catch {
      /* metadata we cannot read says nothing */
    }
  }

  /** The figures of the interval since the previous take(), which starts the next one. */
  take(): FlvReading {
    const videoSpan =
      this.windowStartVideoTs !== null && this.lastVideoTs !== null ? this.lastVideoTs - this.windowStartVideoTs : 0;
    const span = this.windowStartTs !== null && this.lastTs !== null ? this.lastTs - this.windowStartTs : 0;
    const kbps = (bytes: number) => (span > 0 ? Math.round((bytes * 8) / span) : null);
    let keyframe = this.keyInterval;
    // A keyframe overdue for longer than the last interval: the interval is at least that long.
    if (this.lastKeyTs !== null && this.lastVideoTs !== null && this.lastVideoTs - this.lastKeyTs > (keyframe ?? 0))
      keyframe = this.lastVideoTs - this.lastKeyTs;
    const reading: FlvReading = {
      videoCodec: this.videoCodec,
      width: this.width,
      height: this.height,
      fps: videoSpan > 0 ? Math.round(((this.frames - (this.startCounted ? 1 : 0)) * 100_000) / videoSpan) / 100 : null,
      nominalFps: this.nominalFps,
      videoKbps: this.videoCodec ? kbps(this.videoBytes) : null,
      audioCodec: this.audioCodec,
      audioKbps: this.audioCodec ? kbps(this.audioBytes) : null,
      keyframeIntervalMs: keyframe,
    };
    this.frames = this.videoBytes = this.audioBytes = 0;
    this.windowStartTs = this.lastTs;
    this.windowStartVideoTs = this.lastVideoTs;
    this.startCounted = false;
    return reading;
  }
}
