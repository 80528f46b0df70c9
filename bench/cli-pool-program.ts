// The Pulumi program of bench/cli-pool-apply.ts: one ServerPool over every server in the stack config and `guests`
// HA Guests of 256 MB (every other one pinned to a server, the rest "auto"), on a cluster root the bench prepared.
import * as pulumi from "@pulumi/pulumi";
import { ServerPool } from "../provider/resources/server-pool";
import { Guest } from "../provider/resources/guest";

const config = new pulumi.Config();
const servers = config.requireObject<{ name: string; address: string }[]>("servers");
const guests = config.requireNumber("guests");
const pool = new ServerPool("pool", {
  name: "bench",
  master: servers[0],
  members: servers.slice(1),
  cluster: "ocfs2",
  clusterRoot: config.require("clusterRoot"),
  ha: true,
});
for (let g = 0; g < guests; g++) {
  new Guest(`g${g}`, {
    name: `g${g}`, pool: pool.guestPool, memory: 256, vcpus: 1, disk: { sizeMB: 16 }, ha: true,
    preferredServers: g % 2 ? "auto" : [servers[g % servers.length].name],
  });
}
