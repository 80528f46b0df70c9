// The repository as a Pulumi project (Pulumi.yaml): the HA pool of one of the examples, picked by the stack config
// key `storage` (nfs, the default; ocfs2-san; ocfs2-iscsi), with its servers and storage read from the stack config
// as that example's README says. `npm run pulumi -- preview` builds it and runs the Pulumi CLI here.
import * as pulumi from "@pulumi/pulumi";
import { nfsPool } from "./examples/nfs/program";
import { ocfs2SanPool } from "./examples/ocfs2-san/program";
import { ocfs2IscsiPool } from "./examples/ocfs2-iscsi/program";

const pools = { nfs: nfsPool, "ocfs2-san": ocfs2SanPool, "ocfs2-iscsi": ocfs2IscsiPool };
const storage = new pulumi.Config().get("storage") ?? "nfs";
if (!(storage in pools)) {
  throw new Error(`stack config 'storage' is '${storage}': must be one of ${Object.keys(pools).join(", ")}`);
}

export = pools[storage as keyof typeof pools]();
