// Which server a stand-in runs on and what the lab says about it. Inside a server these come from
// /etc/ovm-lab/server.json and LABDIR/lab.json; the environment overrides exist so the hypervisor logic can be
// exercised on the host against a temporary directory (unit tests), with no lab running.
import * as fs from "fs";
import { LabInfo, LabServer, ServerIdentity, SERVER_IDENTITY, layout } from "../layout";

export const XEND_DIR = "/run/xend";

export interface HostContext {
  identity: ServerIdentity;
  lab: LabInfo;
  server: LabServer;
  /** Where this server's domain records live (/run/xend). */
  xendDir: string;
}

export function loadHostContext(env: NodeJS.ProcessEnv = process.env): HostContext {
  const identityPath = env.OVM_LAB_SERVER_JSON || SERVER_IDENTITY;
  const identity = JSON.parse(fs.readFileSync(identityPath, "utf8")) as ServerIdentity;
  const lab = JSON.parse(fs.readFileSync(layout.labJson(identity.labDir), "utf8")) as LabInfo;
  const server = lab.servers.find((s) => s.name === identity.name);
  if (!server) throw new Error(`server ${identity.name} is not in ${layout.labJson(identity.labDir)}`);
  return { identity, lab, server, xendDir: env.OVM_LAB_XEND_DIR || XEND_DIR };
}

/** A migration target named by server name or address, as `xm migrate DOM HOST` accepts either. */
export function findServer(lab: LabInfo, host: string): LabServer | undefined {
  return lab.servers.find((s) => s.name === host || s.address === host);
}
