// /etc/init.d/o2cb (ocfs2-tools 1.4 era) for lab servers. The lab has no ocfs2 kernel module, so "online" is a
// record in /run/o2cb; whether the cluster is defined is decided by the real `o2cb list-cluster` on cluster.conf.
import * as fs from "fs";
import { execFileSync } from "child_process";
import { parseClusterConf } from "../storage/cluster-conf";
import { readMtab } from "../storage/mtab";
import {
  CLUSTER_CONF,
  O2CB_DEFAULTS,
  O2cbSysconfig,
  readRuntime,
  readSysconfig,
  writeRuntime,
  writeSysconfig,
} from "../storage/o2cb-state";
import { Io, runStandin, serverPath, StandinContext } from "../storage/server-context";

/** Whether an OCFS2 volume is mounted here (the o2cb disk heartbeat runs while one is). */
export function heartbeatActive(ctx: { root: string }): boolean {
  return readMtab(ctx).some((e) => e.type === "ocfs2");
}

/** The real o2cb tool's view of a cluster in cluster.conf: its node names, or undefined when not defined. */
export function clusterNodes(ctx: { root: string }, cluster: string): string[] | undefined {
  return clusterNodeEntries(ctx, cluster)?.map((n) => n.name);
}

/** The cluster's nodes as o2cb itself reads them from cluster.conf (name, ip_address), or undefined. */
export function clusterNodeEntries(ctx: { root: string }, cluster: string): { name: string; ipAddress: string }[] | undefined {
  const conf = serverPath(ctx, CLUSTER_CONF);
  if (!fs.existsSync(conf)) return undefined;
  let out: string;
  try {
    out = execFileSync("o2cb", [`--config-file=${conf}`, "list-cluster", cluster], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch {
    return undefined;
  }
  const parsed = parseClusterConf(out);
  // `o2cb list-cluster` exits 0 even for an unknown cluster (it prints "Unknown cluster" on stderr only).
  if (!parsed.clusters.some((c) => c.name === cluster)) return undefined;
  return parsed.nodes.filter((n) => n.cluster === cluster).map((n) => ({ name: n.name, ipAddress: n.ipAddress }));
}

function load(ctx: StandinContext, io: Io): void {
  const rt = readRuntime(ctx);
  if (rt.loaded) return;
  io.out('Loading filesystem "configfs": OK\n');
  io.out("Mounting configfs filesystem at /sys/kernel/config: OK\n");
  io.out('Loading filesystem "ocfs2_dlmfs": OK\n');
  io.out("Mounting ocfs2_dlmfs filesystem at /dlm: OK\n");
  writeRuntime(ctx, { ...rt, loaded: true });
}

export function online(ctx: StandinContext, io: Io, cluster: string): number {
  if (!cluster) {
    io.out("Cluster not known\n");
    return 1;
  }
  load(ctx, io);
  const rt = readRuntime(ctx);
  if (rt.online === cluster) {
    io.out(`Cluster ${cluster} already online\n`);
    return 0;
  }
  if (rt.online) {
    io.out(`Starting O2CB cluster ${cluster}: Failed\nCluster ${rt.online} is already online\n`);
    return 1;
  }
  if (!fs.existsSync(serverPath(ctx, CLUSTER_CONF))) {
    io.out(`Starting O2CB cluster ${cluster}: Failed\n`);
    io.out(`o2cb_ctl: Unable to load cluster configuration file "${CLUSTER_CONF}"\n`);
    return 1;
  }
  const entries = clusterNodeEntries(ctx, cluster);
  const nodes = entries?.map((n) => n.name);
  if (!entries || !nodes) {
    io.out(`Starting O2CB cluster ${cluster}: Failed\no2cb_ctl: Cluster "${cluster}" is not defined in ${CLUSTER_CONF}\n`);
    return 1;
  }
  if (!nodes.includes(ctx.identity.name)) {
    io.out(`Starting O2CB cluster ${cluster}: Failed\no2cb_ctl: Node "${ctx.identity.name}" is not a member of cluster "${cluster}"\n`);
    return 1;
  }
  // The local node (found by its name, the hostname) must have an ip_address of this server: the kernel's o2net
  // binds its listening socket to it, and when that fails (EADDRNOTAVAIL) o2cb_ctl reports the failure as
  // "Internal logic failure while adding node NAME" (ocfs2-tools' o2cb_ctl; Oracle Support Doc 470888.1 is titled
  // after it). The kernel logs the bind error; the lab has no kernel log, so only o2cb_ctl's line is printed.
  const local = entries.find((n) => n.name === ctx.identity.name)!;
  if (local.ipAddress !== ctx.identity.address) {
    io.out(`Starting O2CB cluster ${cluster}: Failed\no2cb_ctl: Internal logic failure while adding node ${local.name}\n`);
    return 1;
  }
  writeRuntime(ctx, { loaded: true, online: cluster });
  io.out(`Starting O2CB cluster ${cluster}: OK\n`);
  return 0;
}

export function offline(ctx: StandinContext, io: Io, cluster: string): number {
  const rt = readRuntime(ctx);
  if (!rt.online || (cluster && rt.online !== cluster)) return 0;
  if (heartbeatActive(ctx)) {
    io.out(`Stopping O2CB cluster ${rt.online}: Failed\nUnable to stop cluster as heartbeat region still active\n`);
    return 1;
  }
  io.out(`Stopping O2CB cluster ${rt.online}: OK\n`);
  writeRuntime(ctx, { ...rt, online: null });
  return 0;
}

function unload(ctx: StandinContext, io: Io): void {
  const rt = readRuntime(ctx);
  if (!rt.loaded) return;
  io.out("Unmounting ocfs2_dlmfs filesystem: OK\n");
  io.out('Unloading module "ocfs2_dlmfs": OK\n');
  io.out("Unmounting configfs filesystem: OK\n");
  io.out('Unloading module "configfs": OK\n');
  writeRuntime(ctx, { loaded: false, online: null });
}

export function status(ctx: StandinContext, io: Io, cluster: string): number {
  const rt = readRuntime(ctx);
  const conf = readSysconfig(ctx);
  const name = cluster || rt.online || conf.bootCluster || O2CB_DEFAULTS.bootCluster;
  if (rt.loaded) {
    io.out('Driver for "configfs": Loaded\nFilesystem "configfs": Mounted\n');
    io.out('Driver for "ocfs2_dlmfs": Loaded\nFilesystem "ocfs2_dlmfs": Mounted\n');
  } else {
    io.out('Driver for "configfs": Not loaded\nDriver for "ocfs2_dlmfs": Not loaded\n');
  }
  if (rt.online !== name) {
    io.out(`Checking O2CB cluster ${name}: Offline\n`);
    return 0;
  }
  io.out(`Checking O2CB cluster ${name}: Online\n`);
  io.out(`Heartbeat dead threshold = ${conf.heartbeatThreshold}\n`);
  io.out(`  Network idle timeout: ${conf.idleTimeoutMs}\n`);
  io.out(`  Network keepalive delay: ${conf.keepaliveDelayMs}\n`);
  io.out(`  Network reconnect delay: ${conf.reconnectDelayMs}\n`);
  io.out(`Checking O2CB heartbeat: ${heartbeatActive(ctx) ? "Active" : "Not active"}\n`);
  return 0;
}

/** `configure`: the 1.4 prompts, answered from stdin lines (an empty line or EOF keeps the default). */
export function configure(ctx: StandinContext, io: Io, answers: string[]): number {
  const cur = readSysconfig(ctx);
  const next: O2cbSysconfig = { ...cur };
  let i = 0;
  const ask = (prompt: string, def: string): string => {
    io.out(`${prompt} [${def}]: `);
    const a = (answers[i++] ?? "").trim();
    return a === "" ? def : a;
  };
  io.out("Configuring the O2CB driver.\n\n");
  io.out("This will configure the on-boot properties of the O2CB driver.\n");
  io.out("The following questions will determine whether the driver is loaded on\n");
  io.out("boot.  The current values will be shown in brackets ('[]').  Hitting\n");
  io.out("<ENTER> without typing an answer will keep that current value.  Ctrl-C\n");
  io.out("will abort.\n\n");
  const enabled = ask("Load O2CB driver on boot (y/n)", cur.enabled ? "y" : "n");
  if (!/^[yn]$/i.test(enabled)) {
    io.out(`\nInvalid answer: ${enabled}\n`);
    return 1;
  }
  next.enabled = /^y$/i.test(enabled);
  next.stack = ask("Cluster stack backing O2CB", cur.stack);
  const boot = ask('Cluster to start on boot (Enter "none" to clear)', cur.bootCluster || "ocfs2");
  next.bootCluster = boot === "none" ? "" : boot;
  const numbers: [keyof O2cbSysconfig, string, number][] = [
    ["heartbeatThreshold", "Specify heartbeat dead threshold (>=7)", 7],
    ["idleTimeoutMs", "Specify network idle timeout in ms (>=5000)", 5000],
    ["keepaliveDelayMs", "Specify network keepalive delay in ms (>=1000)", 1000],
    ["reconnectDelayMs", "Specify network reconnect delay in ms (>=2000)", 2000],
  ];
  for (const [key, prompt, min] of numbers) {
    const a = ask(prompt, String(cur[key]));
    const n = Number(a);
    if (!/^\d+$/.test(a) || n < min) {
      io.out(`\nInvalid value: ${a}\n`);
      return 1;
    }
    (next as unknown as Record<string, number>)[key] = n;
  }
  writeSysconfig(ctx, next);
  io.out("Writing O2CB configuration: OK\n");
  if (next.enabled && next.bootCluster) return online(ctx, io, next.bootCluster);
  return 0;
}

export function o2cbService(args: string[], ctx: StandinContext, io: Io, stdinText = ""): number {
  const [cmd, arg] = args;
  const conf = readSysconfig(ctx);
  const cluster = arg || conf.bootCluster;
  switch (cmd) {
    case "status":
      return status(ctx, io, arg ?? "");
    case "load":
      load(ctx, io);
      return 0;
    case "online":
      return online(ctx, io, cluster);
    case "offline":
      return offline(ctx, io, cluster);
    case "unload":
      if (readRuntime(ctx).online) return offline(ctx, io, "") || (unload(ctx, io), 0);
      unload(ctx, io);
      return 0;
    case "start":
      if (!conf.enabled) return 0;
      return online(ctx, io, cluster);
    case "stop": {
      const rc = offline(ctx, io, "");
      if (rc !== 0) return rc;
      unload(ctx, io);
      return 0;
    }
    case "restart":
    case "force-reload": {
      const rc = offline(ctx, io, "");
      if (rc !== 0) return rc;
      return conf.enabled ? online(ctx, io, cluster) : 0;
    }
    case "configure":
      return configure(ctx, io, stdinText.split("\n"));
    default:
      io.out("Usage: /etc/init.d/o2cb {start|stop|restart|force-reload|enable|disable|configure|load|unload|online|offline|force-offline|status|online-status}\n");
      return 1;
  }
}

if (require.main === module) {
  runStandin((argv, ctx, io) => {
    let stdinText = "";
    if (argv[0] === "configure") {
      try {
        stdinText = fs.readFileSync(0, "utf8");
      } catch {
        /* no stdin */
      }
    }
    return o2cbService(argv, ctx, io, stdinText);
  });
}
