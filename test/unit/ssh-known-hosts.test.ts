// known_hosts and fingerprints, checked against OpenSSH's own tools (ssh-keygen) on the local machine.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fingerprintOf, keyTypeOf } from "../../provider/ssh/fingerprint";
import { verifyHostKey } from "../../provider/ssh/host-keys";
import { HostKeyMismatchError, UnknownHostKeyError } from "../../provider/ssh/errors";
import { formatKnownHostsLine, lookupKnownHost, parseKnownHosts } from "../../provider/ssh/known-hosts";

describe("ssh known_hosts and fingerprints", () => {
  let dir: string;
  let blob: Buffer; // ed25519 host key
  let other: Buffer; // a second key
  let fp: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-kh-"));
    for (const [name, type] of [["a", "ed25519"], ["b", "ecdsa"]]) {
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path.join(dir, name)]);
    }
    blob = Buffer.from(fs.readFileSync(path.join(dir, "a.pub"), "utf8").split(" ")[1], "base64");
    other = Buffer.from(fs.readFileSync(path.join(dir, "b.pub"), "utf8").split(" ")[1], "base64");
    // "256 SHA256:... comment (ED25519)"
    fp = execFileSync("ssh-keygen", ["-lf", path.join(dir, "a.pub")], { encoding: "utf8" }).split(" ")[1];
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("computes the fingerprint ssh-keygen -lf prints", () => {
    expect(fp).to.match(/^SHA256:[A-Za-z0-9+/]+$/);
    expect(fingerprintOf(blob)).to.equal(fp);
    expect(keyTypeOf(blob)).to.equal("ssh-ed25519");
    expect(keyTypeOf(other)).to.equal("ecdsa-sha2-nistp256");
  });

  it("parses plain entries, [host]:port, comments, markers and skips junk", () => {
    const b64 = blob.toString("base64");
    const text = [
      "# a comment",
      "",
      `10.0.0.1,server1 ssh-ed25519 ${b64} root@x`,
      `[10.0.0.2]:2222 ssh-ed25519 ${b64}`,
      `@revoked 10.0.0.3 ssh-ed25519 ${b64}`,
      `@cert-authority *.example ssh-ed25519 ${b64}`,
      "garbage line",
      `10.0.0.9 ecdsa-sha2-nistp256 ${other.toString("base64")}`,
    ].join("\n");
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.marker)).to.deep.equal([null, null, "revoked", "cert-authority", null]);
    expect(entries[0].fingerprint).to.equal(fp);
    expect(lookupKnownHost(entries, "10.0.0.1", 22).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "server1", 22).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "10.0.0.1", 2222).keys).to.have.length(0);
    expect(lookupKnownHost(entries, "10.0.0.2", 2222).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "10.0.0.2", 22).keys).to.have.length(0);
    expect(lookupKnownHost(entries, "10.0.0.3", 22).revoked).to.have.length(1);
    expect(lookupKnownHost(entries, "a.example", 22).keys).to.have.length(0); // CA lines never match
  });

  it("matches hashed entries written by ssh-keygen -H, including [host]:port", () => {
    const kh = path.join(dir, "known_hosts_hashed");
    fs.writeFileSync(
      kh,
      formatKnownHostsLine("192.168.7.1", 22, "ssh-ed25519", blob) +
        "\n" +
        formatKnownHostsLine("192.168.7.2", 2200, "ssh-ed25519", blob) +
        "\n",
    );
    execFileSync("ssh-keygen", ["-H", "-f", kh], { stdio: "ignore" });
    const entries = parseKnownHosts(fs.readFileSync(kh, "utf8"));
    expect(entries.every((e) => e.hosts.startsWith("|1|"))).to.equal(true);
    expect(lookupKnownHost(entries, "192.168.7.1", 22).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "192.168.7.2", 2200).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "192.168.7.2", 22).keys).to.have.length(0);
    expect(lookupKnownHost(entries, "192.168.7.3", 22).keys).to.have.length(0);
    // ssh-keygen agrees our written lines name these hosts.
    expect(execFileSync("ssh-keygen", ["-F", "[192.168.7.2]:2200", "-f", kh], { encoding: "utf8" })).to.contain("found");
  });

  it("applies negated and wildcard patterns", () => {
    const entries = parseKnownHosts(`10.1.*,!10.1.0.5 ssh-ed25519 ${blob.toString("base64")}\n`);
    expect(lookupKnownHost(entries, "10.1.2.3", 22).keys).to.have.length(1);
    expect(lookupKnownHost(entries, "10.1.0.5", 22).keys).to.have.length(0);
  });

  describe("verifyHostKey", () => {
    const server = { name: "s1", address: "10.9.9.9", port: 2222 };

    it("accepts a pinned fingerprint and refuses another key naming both fingerprints", async () => {
      await verifyHostKey(server, { fingerprint: fp }, blob);
      const err = await verifyHostKey(server, { fingerprint: fp }, other).catch((e) => e);
      expect(err).to.be.instanceOf(HostKeyMismatchError);
      expect(err.message).to.contain("s1").and.contain(fp).and.contain(fingerprintOf(other));
    });

    it("refuses an unknown host unless trust-on-first-use is asked for, then records it", async () => {
      const kh = path.join(dir, "kh-tofu");
      fs.writeFileSync(kh, "# empty\n");
      const err = await verifyHostKey(server, { knownHostsPath: kh }, blob).catch((e) => e);
      expect(err).to.be.instanceOf(UnknownHostKeyError);
      expect(err.message).to.contain("s1").and.contain(fp);
      await verifyHostKey(server, { knownHostsPath: kh, trustOnFirstUse: true }, blob);
      expect(fs.readFileSync(kh, "utf8")).to.contain(`[10.9.9.9]:2222 ssh-ed25519 ${blob.toString("base64")}`);
      await verifyHostKey(server, { knownHostsPath: kh }, blob); // now known
      // A changed key is refused even with trust-on-first-use.
      const changed = await verifyHostKey(server, { knownHostsPath: kh, trustOnFirstUse: true }, other).catch((e) => e);
      expect(changed).to.be.instanceOf(HostKeyMismatchError);
      expect(changed.expected).to.deep.equal([fp]);
      expect(changed.presented).to.equal(fingerprintOf(other));
    });

    it("refuses a revoked key", async () => {
      const kh = path.join(dir, "kh-revoked");
      fs.writeFileSync(kh, `@revoked * ssh-ed25519 ${blob.toString("base64")}\n`);
      const err = await verifyHostKey(server, { knownHostsPath: kh, trustOnFirstUse: true }, blob).catch((e) => e);
      expect(err).to.be.instanceOf(HostKeyMismatchError);
      expect(err.message).to.contain("revoked");
    });
  });
});
