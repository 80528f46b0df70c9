// `ovm-ha drain SERVER`: the same path as the shutdown hook. Writes a request file on the shared storage
// (through any configured pool address), then waits (bounded) for the watchdog's response.
import type { SshPool, ServerEndpoint } from "../provider/ssh";
import type { WatchdogConfig } from "./daemon/config";
import { DrainResponseSchema, newRequestId, requestPath, responsePath, type DrainRequest, type DrainResponse } from "./daemon/drain-request";
import { readRemoteFile, seedEndpoints, sshPoolFromConfig, writeRemoteFile } from "./daemon/ssh-access";

export interface DrainOptions {
  server: string;
  op?: DrainRequest["op"];
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (r: DrainResponse) => void;
}

export type DrainOutcome = { state: "done" | "refused"; reason: string } | { state: "timeout"; reason: string };

async function firstAnswering(ssh: SshPool, eps: ServerEndpoint[], run: (ep: ServerEndpoint) => Promise<void>): Promise<ServerEndpoint> {
  const errors: string[] = [];
  for (const ep of eps) {
    try {
      await run(ep);
      return ep;
    } catch (e) {
      errors.push(`${ep.name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no pool address answered: ${errors.join("; ")}`);
}

export async function drainServer(config: WatchdogConfig, opts: DrainOptions, ssh: SshPool = sshPoolFromConfig(config, { connectTimeoutMs: 5000 })): Promise<DrainOutcome> {
  const root = config.pool.clusterRoot;
  const req: DrainRequest = { schemaVersion: 1, server: opts.server, op: opts.op ?? "shutdown", id: newRequestId(), requestedAt: Date.now() };
  const eps = seedEndpoints(config);
  try {
    let via = await firstAnswering(ssh, eps, (ep) => writeRemoteFile(ssh, ep, requestPath(root, opts.server), JSON.stringify(req) + "\n", 10000));
    const until = Date.now() + opts.timeoutMs;
    let last: string | undefined;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      let text: string | undefined;
      try {
        text = await readRemoteFile(ssh, via, responsePath(root, opts.server), 5000);
      } catch {
        via = await firstAnswering(ssh, eps, async (ep) => void (text = await readRemoteFile(ssh, ep, responsePath(root, opts.server), 5000)));
      }
      if (!text) continue;
      let resp: DrainResponse;
      try {
        resp = DrainResponseSchema.parse(JSON.parse(text));
      } catch {
        continue;
      }
      if (resp.id !== req.id) continue;
      if (resp.state !== last) opts.onProgress?.(resp);
      last = resp.state;
      if (resp.state === "done" || resp.state === "refused") {
        await ssh.exec(via, ["rm", "-f", requestPath(root, opts.server)], { timeoutMs: 5000 }).catch(() => undefined);
        return { state: resp.state, reason: resp.reason };
      }
    }
    return { state: "timeout", reason: `no answer from the watchdog within ${opts.timeoutMs} ms${last ? ` (last: ${last})` : ""}: is it running?` };
  } finally {
    ssh.close();
  }
}
