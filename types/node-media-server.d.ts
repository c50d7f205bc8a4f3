// Minimal typings for the parts of node-media-server 4.4 onair uses.
declare module "node-media-server" {
  import type { Socket } from "node:net";

  export interface NmsSession {
    id: string;
    ip: string;
    protocol: string;
    streamApp: string;
    streamName: string;
    streamPath: string;
    streamQuery: Record<string, string | undefined>;
    socket?: Socket;
    close(): void;
  }
  export default class NodeMediaServer {
    constructor(config: Record<string, unknown>);
    on(
      event: "prePublish" | "postPublish" | "donePublish" | "prePlay" | "postPlay" | "donePlay",
      cb: (s: NmsSession) => void,
    ): void;
    run(): Promise<void>;
    stop(): Promise<void>;
  }
}
declare module "node-media-server/src/core/context.js" {
  const Context: {
    broadcasts: Map<
      string,
      {
        publisher: { id: string; streamQuery?: Record<string, string | undefined>; close(): void } | null;
        _publishGraceTimer: unknown;
      }
    >;
  };
  export default Context;
}
declare module "node-media-server/src/core/logger.js" {
  const logger: { level: string };
  export default logger;
}
declare module "node-media-server/src/protocol/amf.js" {
  export function decodeAmf0Data(data: Buffer): { cmd?: string; dataObj?: Record<string, unknown> | null };
}
declare module "node-media-server/src/protocol/sps_info.js" {
  export function parseH264Sps(sps: Buffer): { width: number; height: number } | null;
}
