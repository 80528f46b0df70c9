// /usr/lib/ovs/ovs-cluster-configure for lab servers. What the real script does internally is not documented
// (formats.md); the lab does the documented effects: cluster.conf created when missing (a one-node cluster of this
// server), /etc/sysconfig/o2cb written with O2CB_ENABLED=true when missing, o2cb brought online. Idempotent.
import * as fs from "fs";
import * as path from "path";
import { online } from "./init-o2cb";
import { renderClusterConf } from "../storage/cluster-conf";
import { CLUSTER_CONF, O2CB_DEFAULTS, readSysconfig, SYSCONFIG_O2CB, writeSysconfig } from "../storage/o2cb-state";
import { Io, runStandin, serverPath, StandinContext } from "../storage/server-context";

export const DEFAULT_CLUSTER = "ocfs2";

export function clusterConfigure(_argv: string[], ctx: StandinContext, io: Io): number {
  const conf = serverPath(ctx, CLUSTER_CONF);
  if (!fs.existsSync(conf)) {
    fs.mkdirSync(path.dirname(conf), { recursive: true });
    fs.writeFileSync(
      conf,
      renderClusterConf(DEFAULT_CLUSTER, [
        { name: ctx.identity.name.split(".")[0], number: 0, ipAddress: ctx.identity.address, ipPort: 7777, cluster: DEFAULT_CLUSTER },
      ]),
    );
    io.out(`Created ${CLUSTER_CONF}\n`);
  }
  if (!fs.existsSync(serverPath(ctx, SYSCONFIG_O2CB))) {
    writeSysconfig(ctx, { ...O2CB_DEFAULTS, enabled: true, bootCluster: DEFAULT_CLUSTER });
    io.out(`Created ${SYSCONFIG_O2CB}\n`);
  }
  const sys = readSysconfig(ctx);
  return online(ctx, io, sys.bootCluster || DEFAULT_CLUSTER);
}

if (require.main === module) runStandin(clusterConfigure);
