// Cluster end to end on the lab through the engine harness: cluster.conf on every server (read back by the real
// `o2cb --config-file=F list-cluster NAME`), o2cb online everywhere, the cluster root registered by the ovs-*
// scripts on the master, stable node numbers as servers join and leave, drift, and a destroy that keeps data.
// A Cluster on an OCFS2 SharedDisk (formatted once, the cluster root at /OVS/<volume UUID>, no-change up,
// destroy keeping the volume) runs through the real Pulumi CLI in test/cli-e2e/ocfs2-san.test.ts.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "../engine";
import { startTestLab, TestLab } from "../support/lab";
import { Cluster, ClusterArgs } from "../../provider/resources/cluster";
import { parseO2cbListCluster, parseO2cbStatus } from "../../provider/parsers";
import { ok } from "../support/engine-ok";

const projectDir = path.resolve(__dirname, "../../..");

describe("Cluster on the lab (engine harness)", function () {
  this.timeout(180000);
  let lab: TestLab;

  const sh = async (server: string, script: string) => lab.inServer(server, ["sh", "-c", script]);
  const server = (name: string) => {
    const s = lab.info.servers.find((x) => x.name === name)!;
    return { name: s.name, address: s.address, port: s.port, hostKeyFingerprint: s.hostKeyFingerprint };
  };
  const newStack = () => {
    const stack = new Stack({ project: "cluster-lab", projectDir });
    stack.setConfig("sshPrivateKey", fs.readFileSync(lab.info.privateKeyPath, "utf8"), { secret: true });
    stack.setConfig("sshKnownHosts", lab.info.knownHostsPath);
    stack.setConfig("sshConnectTimeoutMs", "3000");
    return stack;
  };
  /** The nodes o2cb itself reads from a server's cluster.conf: name -> number. */
  const o2cbNodes = async (s: string, cluster = "ocfs2") => {
    const r = await sh(s, `o2cb --config-file=/etc/ocfs2/cluster.conf list-cluster ${cluster}`);
    expect(r.code, `${s}: ${r.stderr}`).to.equal(0);
    const conf = parseO2cbListCluster(r.stdout, cluster);
    expect(conf.cluster.nodeCount, s).to.equal(conf.nodes.length);
    return Object.fromEntries(conf.nodes.map((n) => [n.name, n.number]));
  };
  const online = async (s: string) => parseO2cbStatus((await sh(s, "service o2cb status")).stdout).online;
  const stamp = async (s: string) => (await sh(s, "stat -c %Y.%i /etc/ocfs2/cluster.conf /etc/sysconfig/o2cb")).stdout;

  before(async () => {
    lab = await startTestLab({ servers: 3 });
  });
  after(async () => {
    await lab?.down();
  });

  describe("nfs", () => {
    let stack: Stack;
    let description: string | undefined;
    const args = (names: string[]): ClusterArgs => ({ kind: "nfs", master: "ovs1", servers: names.map(server), source: lab.info.storage.nfs.export, o2cb: { heartbeatThreshold: 7 }, description });
    const program = (names: string[]) => () => {
      new Cluster("cluster", args(names));
    };

    before(() => {
      stack = newStack();
    });

    it("preview plans a create with node numbers and runs nothing", async () => {
      const plan = ok(await stack.preview(program(["ovs1", "ovs2"])));
      expect(plan.steps.map((s) => s.op)).to.deep.equal(["create"]);
      expect(plan.step("cluster")!.inputs!.nodeNumbers).to.deep.equal({ ovs1: 0, ovs2: 1 });
      expect(plan.calls.Create).to.equal(0);
      expect((await sh("ovs1", "ls /etc/ocfs2/cluster.conf")).code).to.not.equal(0);
    });

    it("up writes cluster.conf and o2cb on every server, brings o2cb online, registers the cluster root on the master", async () => {
      ok(await stack.up(program(["ovs1", "ovs2"])));
      const outs = stack.resource("cluster")!.outputs;
      expect(outs.nodeNumbers).to.deep.equal({ ovs1: 0, ovs2: 1 });
      expect(outs.repositoryUuid).to.match(/^[0-9A-F]{32}$/);
      expect(outs.clusterRoot).to.equal(`/OVS/${outs.repositoryUuid}`);
      expect(outs.schemaVersion).to.equal(1);
      for (const s of ["ovs1", "ovs2"]) {
        expect(await o2cbNodes(s), s).to.deep.equal({ ovs1: 0, ovs2: 1 });
        expect(await online(s), s).to.equal(true);
        expect((await sh(s, "cat /etc/sysconfig/o2cb")).stdout, s).to.contain("O2CB_HEARTBEAT_THRESHOLD=7");
      }
      expect((await sh("ovs1", "cat /etc/ovs/repositories")).stdout).to.contain(`${outs.repositoryUuid} ${lab.info.storage.nfs.export}`);
      expect((await sh("ovs1", "readlink -f /OVS/running_pool/..")).stdout.trim()).to.equal(outs.clusterRoot);
      // ovs-cluster-check --alter-fstab ran and backed fstab up (seed 9.3.1 step 3).
      expect((await sh("ovs1", "ls /tmp/fstab.ovs-cluster-check.*")).code).to.equal(0);
      expect((await sh("ovs1", "/usr/lib/ovs/ovs-cluster-check --master")).code).to.equal(0);
    });

    it("a second up changes nothing on the servers", async () => {
      const before = await Promise.all(["ovs1", "ovs2"].map(stamp));
      const backups = (await sh("ovs1", "ls /tmp/fstab.ovs-cluster-check.*")).stdout;
      expect(ok(await stack.up(program(["ovs1", "ovs2"]))).steps.map((s) => s.op)).to.deep.equal(["same"]);
      expect(await Promise.all(["ovs1", "ovs2"].map(stamp))).to.deep.equal(before);
      expect((await sh("ovs1", "ls /tmp/fstab.ovs-cluster-check.*")).stdout).to.equal(backups);
    });

    it("a new description is written where the repository is registered; one changed by hand on the master is drift up repairs", async () => {
      const uuid = stack.resource("cluster")!.outputs.repositoryUuid as string;
      const options = async (s: string) => (await sh(s, "cat /etc/ovs/repositories.options")).stdout;
      const files = async (s: string) => (await sh(s, "cat /etc/ovs/repositories /etc/ovs/repositories.options")).stdout;
      const line = (d: string) => new RegExp(`^${uuid} nfs \\S+ C "${d}"$`, "m");
      expect(await options("ovs1")).to.match(line("cluster root"));
      // ovs2 holds the master's repository, as a pool member does (seed 9.4): made live, then the master's files.
      const ovs2 = await sh("ovs2", `/usr/lib/ovs/ovs-makerepo ${lab.info.storage.nfs.export} C "cluster root"`);
      expect(ovs2.code, ovs2.stderr).to.equal(0);
      for (const f of ["/etc/ovs/repositories", "/etc/ovs/repositories.options"]) {
        const copy = Buffer.from((await sh("ovs1", `cat ${f}`)).stdout).toString("base64");
        expect((await sh("ovs2", `echo ${copy} | base64 -d > ${f}`)).code).to.equal(0);
      }
      expect(await files("ovs2")).to.equal(await files("ovs1"));

      description = "root of pool1";
      expect(ok(await stack.preview(program(["ovs1", "ovs2"]))).step("cluster")!.op).to.equal("update");
      expect(await options("ovs1"), "preview writes nothing").to.match(line("cluster root"));
      expect(ok(await stack.up(program(["ovs1", "ovs2"]))).step("cluster")!.op).to.equal("update");
      expect(await options("ovs1")).to.match(line("root of pool1"));
      expect(await files("ovs2"), "ovs2's copies stay the master's").to.equal(await files("ovs1"));
      expect(ok(await stack.refresh()).step("cluster")!.op).to.equal("same");

      expect((await sh("ovs1", `sed -i 's/"root of pool1"/"changed by hand"/' /etc/ovs/repositories.options`)).code).to.equal(0);
      expect(ok(await stack.refresh()).step("cluster")!.op).to.equal("update");
      expect(stack.resource("cluster")!.outputs.description).to.equal("changed by hand");
      const plan = ok(await stack.preview(program(["ovs1", "ovs2"])));
      expect(plan.step("cluster")!.op).to.equal("update");
      expect(ok(await stack.up(program(["ovs1", "ovs2"]))).step("cluster")!.op).to.equal("update");
      expect(await options("ovs1")).to.match(line("root of pool1"));
      expect(await files("ovs2")).to.equal(await files("ovs1"));
      expect(ok(await stack.refresh()).step("cluster")!.op).to.equal("same");
    });

    it("a joining server gets the next number, everyone the new cluster.conf, and o2cb online", async () => {
      const up = ok(await stack.up(program(["ovs1", "ovs2", "ovs3"])));
      expect(up.step("cluster")!.op).to.equal("update");
      expect(stack.resource("cluster")!.outputs.nodeNumbers).to.deep.equal({ ovs1: 0, ovs2: 1, ovs3: 2 });
      for (const s of ["ovs1", "ovs2", "ovs3"]) expect(await o2cbNodes(s), s).to.deep.equal({ ovs1: 0, ovs2: 1, ovs3: 2 });
      expect(await online("ovs3")).to.equal(true);
    });

    it("a leaving server frees its number; the others keep theirs", async () => {
      ok(await stack.up(program(["ovs1", "ovs3"])));
      expect(stack.resource("cluster")!.outputs.nodeNumbers).to.deep.equal({ ovs1: 0, ovs3: 2 });
      for (const s of ["ovs1", "ovs3"]) expect(await o2cbNodes(s), s).to.deep.equal({ ovs1: 0, ovs3: 2 });
    });

    it("refresh shows o2cb taken offline by hand as drift; the next up brings it back", async () => {
      expect((await sh("ovs3", "service o2cb offline")).code).to.equal(0);
      expect(await online("ovs3")).to.equal(false);
      expect(ok(await stack.refresh()).step("cluster")!.op).to.equal("update");
      expect(ok(await stack.preview(program(["ovs1", "ovs3"]))).step("cluster")!.op).to.equal("update");
      expect(ok(await stack.up(program(["ovs1", "ovs3"]))).step("cluster")!.op).to.equal("update");
      expect(await online("ovs3")).to.equal(true);
      expect(stack.resource("cluster")!.outputs.nodeNumbers).to.deep.equal({ ovs1: 0, ovs3: 2 });
      expect(ok(await stack.refresh()).step("cluster")!.op).to.equal("same");
    });

    it("destroy forgets the cluster and leaves the servers and the repository as they are", async () => {
      const root = stack.resource("cluster")!.outputs.clusterRoot as string;
      expect((await sh("ovs1", `echo keep > ${root}/running_pool/marker`)).code).to.equal(0);
      ok(await stack.destroy());
      expect(stack.resources).to.have.length(0);
      expect(await o2cbNodes("ovs1")).to.deep.equal({ ovs1: 0, ovs3: 2 });
      expect(await online("ovs1")).to.equal(true);
      expect((await sh("ovs1", "cat /OVS/running_pool/marker")).stdout).to.equal("keep\n");
    });
  });

  describe("lab strictness", () => {
    it("o2cb refuses to go online when this node's ip_address in cluster.conf is not the server's own", async () => {
      const [b, , a] = lab.info.servers; // ovs3: online earlier, holds no OCFS2 mount (so it can go offline)
      const conf = [a, b].map((s, i) => `node:\n\tip_port = 7777\n\tip_address = ${i === 0 ? b.address : s.address}\n\tnumber = ${i}\n\tname = ${s.name}\n\tcluster = strict\n`).join("\n");
      const file = `${conf}\ncluster:\n\tnode_count = 2\n\tname = strict\n`;
      const r = await sh(a.name, `cp /etc/ocfs2/cluster.conf /tmp/cc.bak 2>/dev/null; service o2cb offline >/dev/null 2>&1; printf '%s' '${file}' > /etc/ocfs2/cluster.conf && service o2cb online strict; echo "exit=$?"; cp /tmp/cc.bak /etc/ocfs2/cluster.conf 2>/dev/null; true`);
      expect(r.stdout).to.contain("Starting O2CB cluster strict: Failed");
      expect(r.stdout).to.contain(`o2cb_ctl: Internal logic failure while adding node ${a.name}`);
      expect(r.stdout).to.contain("exit=1");
      expect(await online(a.name)).to.equal(false);
    });
  });

  describe("wrong credentials fail refresh and up, naming the server and the cause; nothing changes", () => {
    let stack: Stack;
    const args = (names: string[]): ClusterArgs => ({ kind: "nfs", master: "ovs1", servers: names.map(server), source: lab.info.storage.nfs.export });
    before(async () => {
      stack = newStack();
      ok(await stack.up(() => {
        new Cluster("cluster", args(["ovs1", "ovs2"]));
      }));
    });
    after(async () => {
      ok(await stack.destroy());
    });
      let tmp: string;
      const changed = (names: string[]) => () => {
        new Cluster("cluster", { ...args(names), description: "changed by a bad login" });
      };
      const snapshot = async () => Promise.all(["ovs1", "ovs2"].map(async (s) => (await stamp(s)) + (await sh(s, "cat /etc/ovs/repositories 2>/dev/null; stat -c %Y /etc/fstab")).stdout));
      const withConfig = async (overrides: Record<string, string | undefined>, expectText: (RegExp | string)[], notShown: string[] = []) => {
        const saved = new Map(stack.config);
        for (const [k, v] of Object.entries(overrides)) {
          const key = `cluster-lab:${k}`;
          if (v === undefined) stack.config.delete(key);
          else stack.config.set(key, { value: v, secret: k !== "sshKnownHosts" });
        }
        try {
          const before = await snapshot();
          const state = stack.stateJson();
          for (const result of [await stack.refresh(), await stack.up(changed(["ovs1", "ovs2"]))]) {
            expect(result.errors, "the operation must fail").to.not.be.empty;
            const text = result.errors.map((e) => e.message).join("\n");
            if (process.env.SHOW_ERRORS) console.log(text);
            for (const t of expectText) {
              if (typeof t === "string") expect(text).to.contain(t);
              else expect(text).to.match(t);
            }
            expect(text).not.to.match(/did not answer|unreachable/);
            for (const secretText of notShown) expect(text).not.to.contain(secretText);
            expect(stack.resource("cluster")!.outputs.description, "nothing applied").to.not.equal("changed by a bad login");
          }
          expect(await snapshot(), "no server changed").to.deep.equal(before);
          expect(JSON.parse(stack.stateJson()).resources.map((r: { outputs: Record<string, unknown> }) => r.outputs.unreachableServers)).to.deep.equal(
            JSON.parse(state).resources.map((r: { outputs: Record<string, unknown> }) => r.outputs.unreachableServers),
          );
        } finally {
          stack.config.clear();
          for (const [k, v] of saved) stack.config.set(k, v);
        }
      };
      before(() => {
        tmp = fs.mkdtempSync(path.join(require("os").tmpdir(), "cluster-creds-"));
        require("child_process").execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(tmp, "stranger")]);
        fs.copyFileSync(lab.info.privateKeyPath, path.join(tmp, "locked"));
        fs.chmodSync(path.join(tmp, "locked"), 0o600);
        require("child_process").execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "right phrase 7", "-f", path.join(tmp, "locked")]);
      });
      after(() => fs.rmSync(tmp, { recursive: true, force: true }));

      it("an unauthorized key", async () => {
        await withConfig({ sshPrivateKey: fs.readFileSync(path.join(tmp, "stranger"), "utf8") }, [/cannot log in to ovs1 \(.*\) as root: the server refused our credentials/, /cannot log in to ovs2/]);
      });
      it("a wrong passphrase", async () => {
        await withConfig({ sshPrivateKey: fs.readFileSync(path.join(tmp, "locked"), "utf8"), sshPassphrase: "wrong phrase 9" }, ["ovs1", "ovs2", "the passphrase is wrong"], ["wrong phrase 9"]);
      });
      it("a missing passphrase", async () => {
        await withConfig({ sshPrivateKey: fs.readFileSync(path.join(tmp, "locked"), "utf8"), sshPassphrase: undefined }, ["ovs1", "ovs2", "it is encrypted and no passphrase was given"]);
      });
      it("a garbage key", async () => {
        await withConfig({ sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n" }, ["ovs1", "ovs2", "the SSH private key cannot be used: it is not a private key"], ["bm90IGEga2V5"]);
      });
      it("a server whose host key changed shows both fingerprints", async () => {
        const hostKey = path.join(lab.dir, "servers", "ovs2", "ssh_host_ed25519_key");
        expect(fs.existsSync(hostKey), hostKey).to.equal(true);
        const original = { key: fs.readFileSync(hostKey), pub: fs.readFileSync(hostKey + ".pub") };
        fs.rmSync(hostKey);
        fs.rmSync(hostKey + ".pub");
        require("child_process").execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
        const presented = String(require("child_process").execFileSync("ssh-keygen", ["-l", "-f", hostKey + ".pub"])).split(" ")[1];
        try {
          await withConfig({}, [`host key of ovs2 does not match: expected ${server("ovs2").hostKeyFingerprint}`, `server presented ${presented}`]);
        } finally {
          fs.writeFileSync(hostKey, original.key, { mode: 0o600 });
          fs.writeFileSync(hostKey + ".pub", original.pub);
        }
      });
    });
});
