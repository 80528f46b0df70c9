// Planned-operation requests on the shared storage. The watchdog runs off the pool and a server going down may
// not reach it, so the server (its shutdown hook) or `ovm-ha drain` writes a request file under the cluster root;
// the watchdog, which reads the cluster root every turn, answers in a response file beside it.
//   <cluster root>/.ovm-ha/requests/<server>.json            {"schemaVersion":1,"server","op","id","requestedAt"}
//   <cluster root>/.ovm-ha/requests/<server>.response.json   {"schemaVersion":1,"server","id","state","reason","at"}
// Response states: accepted (draining), done (drained: the operation may go ahead), refused (with the reason).
// The response is one line of JSON so that the EL5 hook can read it with grep/sed.
import * as path from "path";
import { z } from "zod";

export const REQUESTS_DIR = ".ovm-ha/requests";

export function requestPath(clusterRoot: string, server: string): string {
  return path.posix.join(clusterRoot, REQUESTS_DIR, `${server}.json`);
}
export function responsePath(clusterRoot: string, server: string): string {
  return path.posix.join(clusterRoot, REQUESTS_DIR, `${server}.response.json`);
}

export const DrainRequestSchema = z.object({
  schemaVersion: z.literal(1),
  server: z.string().min(1),
  op: z.enum(["shutdown", "restart", "remove"]),
  id: z.string().min(1),
  requestedAt: z.number().optional(),
});
export type DrainRequest = z.infer<typeof DrainRequestSchema>;

export type ResponseState = "accepted" | "done" | "refused";
export const DrainResponseSchema = z.object({
  schemaVersion: z.literal(1),
  server: z.string(),
  id: z.string(),
  state: z.enum(["accepted", "done", "refused"]),
  reason: z.string(),
  at: z.number(),
});
export type DrainResponse = z.infer<typeof DrainResponseSchema>;

export function formatResponse(r: DrainResponse): string {
  return JSON.stringify(r) + "\n";
}

/**
 * argv that writes its standard input to `file` atomically (temp file + mv): how the watchdog writes a response.
 * An argv, not a script with the path in it, so that it can run behind the fencing-token guard
 * (watchdog/replica/fencing-token.ts): a deposed watchdog cannot answer a request.
 */
export function writeFileCommand(file: string): string[] {
  return ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"', "ovm-ha-write", file];
}

/** A request id unique enough for one server: epoch ms and a random part. */
export function newRequestId(): string {
  return `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}
