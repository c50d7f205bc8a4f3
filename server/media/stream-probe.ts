// Reads a stream the embedded server publishes, as a viewer would (HTTP-FLV on loopback, signed
// internally), through FlvStats; each take() is one health reading. One probe per live stream, held
// by the node that has the stream.
import http from "node:http";
import { FlvStats, type FlvReading } from "./flv-stats";

export class StreamProbe {
  private stats = new FlvStats();
  private req?: http.ClientRequest;
  private ended = false;
  /** Stream time read so far; a probe that never got a byte gives no reading. */
  private bytes = 0;
  constructor(url: string) {
    this.req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return this.close();
      }
      res.on("data", (chunk: Buffer) => {
        this.bytes += chunk.length;
        try {
          this.stats.push(chunk);
        } catch {
          this.close();
        }
      });
      res.on("end", () => this.close());
      res.on("error", () => this.close());
    });
    this.req.on("error", () => this.close());
  }

  get closed() {
    return this.ended;
  }

  take(): FlvReading | undefined {
    return this.bytes ? this.stats.take() : undefined;
  }

  close() {
    this.ended = true;
    this.req?.destroy();
  }
}
