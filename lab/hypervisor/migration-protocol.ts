// Line protocol between `xm migrate` (source) and xm-receive (target), over an ssh session's stdin/stdout:
//   source -> target  OFFER <json MigrationOffer>
//   target -> source  ready            | error <message>   (name taken, not enough memory: nothing reserved)
//   source stops its guest and waits until its process is gone, then
//   source -> target  go               | abort
//   target -> source  started          | error <message>
// Never both running: the target starts the guest only after `go`, which the source sends only once its own
// guest process has disappeared from /proc.
import { Readable } from "stream";

export interface MigrationOffer {
  name: string;
  memory: number;
  vcpus: number;
  cfgPath: string;
  runlog?: string;
  /** File-backed disks the guest uses: each must be reachable on the target. */
  disks?: { path: string; dev: string }[];
  from: string;
}

/** Reads the next line from a stream; undefined at end of stream or after `timeoutMs`. */
export class LineReader {
  private buffered = "";
  private lines: string[] = [];
  private ended = false;
  private waiter?: () => void;

  constructor(stream: Readable) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      this.buffered += chunk;
      let i: number;
      while ((i = this.buffered.indexOf("\n")) >= 0) {
        this.lines.push(this.buffered.slice(0, i));
        this.buffered = this.buffered.slice(i + 1);
      }
      this.waiter?.();
    });
    const end = () => {
      this.ended = true;
      this.waiter?.();
    };
    stream.on("end", end);
    stream.on("close", end);
    stream.on("error", end);
  }

  async next(timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0 && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.lines.shift();
  }
}
