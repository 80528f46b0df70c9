// Seed 9.4 at the agent's start, against a temporary server root (files only; ovs-makerepo is a recorded stand-in).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkAndPropagate } from "../../watchdog/agent/propagation";
import { differingFiles, propagatedFile, renderPropagated } from "../../watchdog/agent/propagated-files";

describe("agent seed 9.4 check (watchdog/agent/propagation.ts)", () => {
  let root: string;
  let cluster: string;
  const runs: string[][] = [];
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "agent-prop-"));
    cluster = path.join(root, "cluster");
    fs.mkdirSync(path.join(cluster, ".ovm-ha"), { recursive: true });
    runs.length = 0;
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const env = (mtab = "") => {
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/mtab"), mtab);
    return { clusterRoot: cluster, server: "ovs2", root, log: () => undefined, run: async (argv: string[]) => { runs.push(argv); return { code: 0, stdout: "", stderr: "" }; } };
  };

  it("no record of the pool's files on the storage: mismatch, saying where ServerPool writes it", async () => {
    const r = await checkAndPropagate(env());
    expect(r.state).to.equal("mismatch");
    expect(r.state === "mismatch" && r.reason).to.include(propagatedFile(cluster));
  });
  it("a differing cluster.conf is written (with a backup), then the server is ready", async () => {
    fs.mkdirSync(path.join(root, "etc/ocfs2"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/ocfs2/cluster.conf"), "old\n");
    fs.writeFileSync(propagatedFile(cluster), renderPropagated({ schemaVersion: 1, master: "ovs1", files: { "/etc/ocfs2/cluster.conf": "new\n" } }));
    const r = await checkAndPropagate(env());
    expect(r).to.deep.equal({ state: "ready", wrote: ["/etc/ocfs2/cluster.conf"], made: [] });
    expect(fs.readFileSync(path.join(root, "etc/ocfs2/cluster.conf"), "utf8")).to.equal("new\n");
    expect(fs.readFileSync(path.join(root, "etc/ocfs2/cluster.conf.ovm-ha.bak"), "utf8")).to.equal("old\n");
    expect(await checkAndPropagate(env())).to.deep.equal({ state: "ready", wrote: [], made: [] });
  });
  it("a pool repository not mounted here is made live with ovs-makerepo; if it still is not mounted, mismatch", async () => {
    const uuid = "0004FB0000050000A1B2C3D4E5F60718";
    fs.writeFileSync(propagatedFile(cluster), renderPropagated({
      schemaVersion: 1,
      master: "ovs1",
      files: { "/etc/ovs/repositories": `${uuid} nfshost:/export/ovs\n`, "/etc/ovs/repositories.options": `${uuid} nfs rw C "cluster root"\n` },
    }));
    const r = await checkAndPropagate(env());
    expect(runs).to.deep.equal([["/usr/lib/ovs/ovs-makerepo", "nfshost:/export/ovs", "C", "cluster root"]]);
    expect(r.state).to.equal("mismatch");
    expect(r.state === "mismatch" && r.reason).to.match(new RegExp(`repositories not mounted after propagation: ${uuid} at /OVS/${uuid}`));
    runs.length = 0;
    const mounted = await checkAndPropagate(env(`nfshost:/export/ovs /OVS/${uuid} nfs rw,addr=nfshost 0 0\n`));
    expect(runs).to.deep.equal([]);
    expect(mounted.state).to.equal("ready");
  });
  it("on the master (the source) nothing is written: its own copies are the pool's", async () => {
    fs.mkdirSync(path.join(root, "etc/ocfs2"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/ocfs2/cluster.conf"), "edited on the master\n");
    fs.writeFileSync(propagatedFile(cluster), renderPropagated({ schemaVersion: 1, master: "ovs1", files: { "/etc/ocfs2/cluster.conf": "stored\n" } }));
    const r = await checkAndPropagate({ ...env(), server: "ovs1" });
    expect(r).to.deep.equal({ state: "ready", wrote: [], made: [] });
    expect(fs.readFileSync(path.join(root, "etc/ocfs2/cluster.conf"), "utf8")).to.equal("edited on the master\n");
  });
  it("only the files the pool lists are compared", () => {
    const local = new Map<string, string | undefined>([["/etc/ocfs2/cluster.conf", "x"], ["/etc/ovs/repositories", "mine"]]);
    expect(differingFiles({ schemaVersion: 1, master: "m", files: { "/etc/ocfs2/cluster.conf": "x" } }, local)).to.deep.equal([]);
    expect(differingFiles({ schemaVersion: 1, master: "m", files: { "/etc/ovs/repositories": "pool" } }, local)).to.deep.equal(["/etc/ovs/repositories"]);
  });
});
