// Stack config that points one of the examples at a running lab (lab.json): the servers with pinned host keys,
// the lab's storage for the example's path, and the SSH key as a secret. Used by the engine-path tests and the
// demo; `pulumiConfigCommands` prints the same as `pulumi config set` lines for a person with the Pulumi CLI.
import * as fs from "fs";
import type { LabInfo } from "../lab/layout";

export type ExampleName = "nfs" | "ocfs2-san" | "ocfs2-iscsi";

export interface StackConfigValue {
  value: string;
  secret: boolean;
}

/** The Pulumi project name of each example (its Pulumi.yaml `name`): config keys live under it. */
export const EXAMPLE_PROJECTS: Record<ExampleName, string> = {
  nfs: "ovm-ha-nfs",
  "ocfs2-san": "ovm-ha-ocfs2-san",
  "ocfs2-iscsi": "ovm-ha-ocfs2-iscsi",
};

export interface LabStackOptions {
  /** Guests the example declares; default: the example's own default list. */
  guests?: { name: string; memory?: number; vcpus?: number; diskMB?: number; preferredServers?: "auto" | string[]; priority?: number }[];
  /** Watchdog timing written into the HA record. */
  timing?: Record<string, unknown>;
  /** Extra keys (plain), e.g. ocfs2 format parameters. */
  extra?: Record<string, string>;
}

/** Small OCFS2 parameters that fit the lab's LUNs (256 MB in test labs). */
export const LAB_OCFS2_FORMAT = { label: "ovsroot", nodeSlots: 4, journalSize: "4M" };

/** Key -> value for the example's stack (keys without the project prefix, as `pulumi config set` takes them). */
export function labStackConfig(info: LabInfo, example: ExampleName, opts: LabStackOptions = {}): Record<string, StackConfigValue> {
  const plain = (value: string): StackConfigValue => ({ value, secret: false });
  const cfg: Record<string, StackConfigValue> = {
    servers: plain(JSON.stringify(info.servers.map((s) => ({ name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint })))),
    master: plain(info.servers[0].name),
    sshPrivateKey: { value: fs.readFileSync(info.privateKeyPath, "utf8"), secret: true },
    sshKnownHosts: plain(info.knownHostsPath),
    sshConnectTimeoutMs: plain("3000"),
  };
  if (example === "nfs") cfg.nfsExport = plain(info.storage.nfs.export);
  if (example === "ocfs2-san") cfg.sanDevice = plain(info.storage.san[0].device);
  if (example === "ocfs2-iscsi") {
    cfg.iscsiPortal = plain(`${info.storage.iscsi.portalAddress}:${info.storage.iscsi.port}`);
    cfg.iscsiTargets = plain(JSON.stringify([info.storage.iscsi.targets[0].iqn]));
  }
  if (example !== "nfs") cfg.ocfs2Format = plain(JSON.stringify(LAB_OCFS2_FORMAT));
  if (opts.guests) cfg.guests = plain(JSON.stringify(opts.guests));
  if (opts.timing) cfg.timing = plain(JSON.stringify(opts.timing));
  for (const [k, v] of Object.entries(opts.extra ?? {})) cfg[k] = plain(v);
  return cfg;
}

/** The same config as shell lines for the Pulumi CLI (the key is read from its file, never printed). */
export function pulumiConfigCommands(info: LabInfo, example: ExampleName, opts: LabStackOptions = {}): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return Object.entries(labStackConfig(info, example, opts)).map(([k, v]) =>
    v.secret ? `pulumi config set --secret ${k} < ${q(info.privateKeyPath)}` : `pulumi config set ${k} ${q(v.value)}`,
  );
}
