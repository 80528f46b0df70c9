// The SSH layer against the lab's real sshd servers: host key checks, inert hostile values, deadlines on a
// hung server, the channel bound, reconnection, sudo, and typed command failures.
import { expect } from "chai";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CommandTimeoutError,
  ConnectionError,
  ConnectionLostError,
  ConnectTimeoutError,
  HostKeyMismatchError,
  RemoteCommandError,
  secret,
  ServerEndpoint,
  shellWithArgs,
  SshCredentials,
  SshPool,
  SshPoolOptions,
  UnknownHostKeyError,
  AuthenticationError,
  PrivateKeyError,
  isNetworkFailure,
  isCredentialFailure,
} from "../../provider/ssh";
import { startTestLab, TestLab } from "../support/lab";

// Values a user could put in a name or path, each of which means something to a shell.
const HOSTILE = [
  "",
  "it's",
  '"dq"',
  "$(touch /tmp/ssh-test-pwned)",
  "`touch /tmp/ssh-test-pwned`",
  "${HOME}",
  "a\nb",
  "a;b",
  "a|b",
  "a&b",
  "*",
  "-n",
  "--help",
  "back\\slash",
  "unicodé ✓ 日本",
  "#x",
  "> /tmp/ssh-test-pwned",
  "\ttab",
];

describe("ssh layer (lab)", function () {
  this.timeout(180000);
  let lab: TestLab;
  let key: Buffer;
  let s1: ServerEndpoint; // stays healthy
  let s2: ServerEndpoint; // gets hung, its sessions killed
  const pools: SshPool[] = [];

  function endpoint(i: number, pin = true): ServerEndpoint {
    const s = lab.info.servers[i];
    return { name: s.name, address: s.address, port: s.port, hostKeyFingerprint: pin ? s.hostKeyFingerprint : undefined };
  }
  function pool(creds: Partial<SshCredentials> = {}, opts: Partial<SshPoolOptions> = {}): SshPool {
    const p = new SshPool({ credentials: { user: "root", privateKey: key, ...creds }, ...opts });
    pools.push(p);
    return p;
  }

  before(async () => {
    lab = await startTestLab({ servers: 2 });
    key = fs.readFileSync(lab.info.privateKeyPath);
    s1 = endpoint(0);
    s2 = endpoint(1);
  });
  after(async () => {
    for (const p of pools) p.close();
    await lab?.down();
  });

  describe("host keys", () => {
    it("accepts the pinned fingerprint", async () => {
      const r = await pool().exec(s1, ["hostname"]);
      expect(r.code).to.equal(0);
    });

    it("refuses a mismatching key, naming the server and both fingerprints", async () => {
      const wrong = { ...s1, hostKeyFingerprint: s2.hostKeyFingerprint };
      const err = await pool().exec(wrong, ["true"]).catch((e) => e);
      expect(err).to.be.instanceOf(HostKeyMismatchError);
      expect(err.message).to.contain(s1.name).and.contain(s2.hostKeyFingerprint!).and.contain(s1.hostKeyFingerprint!);
    });

    it("verifies against the lab's known_hosts file", async () => {
      const r = await pool({ knownHostsPath: lab.info.knownHostsPath }).exec(endpoint(0, false), ["true"]);
      expect(r.code).to.equal(0);
    });

    it("refuses an unknown host; trust-on-first-use only when asked, and then records the key", async () => {
      const kh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ssh-tofu-")), "known_hosts");
      const err = await pool({ knownHostsPath: kh }).exec(endpoint(0, false), ["true"]).catch((e) => e);
      expect(err).to.be.instanceOf(UnknownHostKeyError);
      expect(err.message).to.contain(s1.name).and.contain(s1.hostKeyFingerprint!);
      expect(fs.existsSync(kh)).to.equal(false);
      await pool({ knownHostsPath: kh, trustOnFirstUse: true }).exec(endpoint(0, false), ["true"]);
      expect(fs.readFileSync(kh, "utf8")).to.contain(s1.address);
      // Recorded: a pool without TOFU now accepts it.
      await pool({ knownHostsPath: kh }).exec(endpoint(0, false), ["true"]);
    });
  });

  describe("authentication", () => {
    let tmp: string;
    before(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-auth-"));
      // A passphrase-protected copy of the lab key.
      fs.copyFileSync(lab.info.privateKeyPath, path.join(tmp, "key"));
      fs.chmodSync(path.join(tmp, "key"), 0o600);
      execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "pass phrase 1", "-f", path.join(tmp, "key")]);
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("logs in with a passphrase-protected key; a wrong passphrase fails without showing it", async () => {
      const encrypted = fs.readFileSync(path.join(tmp, "key"));
      const ok = await pool({ privateKey: encrypted, passphrase: "pass phrase 1" }).exec(s1, ["true"]);
      expect(ok.code).to.equal(0);
      const p = pool({ privateKey: encrypted, passphrase: "wrong phrase 2" });
      const err = await p.exec(s1, ["true"]).catch((e) => e);
      expect(err).to.be.instanceOf(PrivateKeyError);
      expect(err.server).to.equal(s1.name);
      expect(err.message).to.equal(`cannot connect to ${s1.name}: the SSH private key cannot be used: the passphrase is wrong (it does not decrypt the key)`);
      expect(p.stats(s1.name).connectionsOpened, "found before connecting").to.equal(0);
      for (const form of [err.message, String(err), JSON.stringify(err)]) {
        expect(form).not.to.contain("wrong phrase 2");
        expect(form).not.to.contain("PRIVATE KEY");
      }
    });

    it("a missing passphrase, a garbage key and an unauthorized key are typed errors naming server and cause", async () => {
      const encrypted = fs.readFileSync(path.join(tmp, "key"));
      const missing = await pool({ privateKey: encrypted }).exec(s1, ["true"]).catch((e) => e);
      expect(missing).to.be.instanceOf(PrivateKeyError);
      expect(missing.message).to.contain(s1.name).and.contain("it is encrypted and no passphrase was given");
      const garbage = await pool({ privateKey: "not a key at all" }).exec(s1, ["true"]).catch((e) => e);
      expect(garbage).to.be.instanceOf(PrivateKeyError);
      expect(garbage.message).to.contain(s1.name).and.contain("it is not a private key");
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(tmp, "stranger")]);
      const refused = await pool({ privateKey: fs.readFileSync(path.join(tmp, "stranger")) }).exec(s1, ["true"]).catch((e) => e);
      expect(refused).to.be.instanceOf(AuthenticationError);
      expect(refused.message).to.match(new RegExp(`^cannot log in to ${s1.name} \\(${s1.address}:22\\) as root: the server refused our credentials`));
      for (const e of [missing, garbage, refused]) {
        expect(isNetworkFailure(e), e.message).to.equal(false);
        expect(isCredentialFailure(e), e.message).to.equal(true);
      }
    });

    it("logs in through an SSH agent", async () => {
      const sock = path.join(tmp, "agent.sock");
      const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
      try {
        for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        execFileSync("ssh-add", ["-q", lab.info.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
        const p = new SshPool({ credentials: { user: "root", agent: sock } });
        pools.push(p);
        expect((await p.exec(s1, ["echo", "via agent"])).stdout).to.equal("via agent\n");
      } finally {
        agent.kill();
      }
    });
  });

  describe("hostile values", () => {
    it("round-trip byte for byte through printf %s on the server", async () => {
      const p = pool();
      const results = await Promise.all(HOSTILE.map((v) => p.exec(s1, ["printf", "%s", v])));
      results.forEach((r, i) => expect(r.stdout).to.equal(HOSTILE[i]));
      const pwned = await p.exec(s1, ["test", "-e", "/tmp/ssh-test-pwned"], { okCodes: [0, 1] });
      expect(pwned.code).to.equal(1);
    });

    it("create and list a file named with hostile characters exactly", async () => {
      const p = pool();
      const dir = (await p.exec(s1, ["mktemp", "-d"])).stdout.trim();
      const name = "x'y \"z\" $(id) `id` ;|&* \n-n é";
      await p.exec(s1, ["touch", "--", `${dir}/${name}`]);
      const listed = await p.exec(s1, ["find", dir, "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\0"]);
      expect(listed.stdout).to.equal(name + "\0");
      await p.exec(s1, ["rm", "-rf", "--", dir]);
    });

    it("pass stdin through unchanged (atomic write with cat > tmp && mv)", async () => {
      const p = pool();
      const file = `/tmp/ssh-stdin-${process.pid}`;
      const content = Buffer.from("line 1\n$(not run)\n\u00e9\x00binary\n", "utf8");
      await p.exec(s1, shellWithArgs('cat > "$1.tmp" && mv -- "$1.tmp" "$1"', file), { input: content });
      const back = await p.exec(s1, ["od", "-An", "-tx1", "-v", file]);
      expect(back.stdout.replace(/\s+/g, "")).to.equal(content.toString("hex"));
      await p.exec(s1, ["rm", "-f", file]);
    });
  });

  describe("failures", () => {
    it("a failing command raises RemoteCommandError with code, stderr, server and masked secret", async () => {
      const p = pool();
      const cmd = shellWithArgs('echo "bad password $1" >&2; exit 7', secret("s3cr3t-value"));
      const err = await p.exec(s1, cmd).catch((e) => e);
      expect(err).to.be.instanceOf(RemoteCommandError);
      expect(err.exitCode).to.equal(7);
      expect(err.server).to.equal(s1.name);
      expect(err.stderr).to.equal("bad password ***\n");
      for (const form of [err.message, String(err), JSON.stringify(err), err.command]) {
        expect(form).not.to.contain("s3cr3t-value");
      }
      expect(err.message).to.contain(s1.name).and.contain("code 7");
      // Accepted codes do not throw.
      const ok = await p.exec(s1, cmd, { okCodes: [0, 7] });
      expect(ok.code).to.equal(7);
    });

    it("a command running past its deadline raises CommandTimeoutError and frees its channel", async () => {
      const p = pool();
      const t0 = Date.now();
      const err = await p.exec(s1, ["sleep", "30"], { timeoutMs: 1000 }).catch((e) => e);
      expect(err).to.be.instanceOf(CommandTimeoutError);
      expect(err.message).to.equal(`command \`sleep 30\` on ${s1.name} timed out after 1000 ms`);
      expect(Date.now() - t0).to.be.below(3000);
      // The stuck channel is given up within the close grace; later commands still run.
      for (let i = 0; i < 50 && p.stats(s1.name).openChannels > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(p.stats(s1.name).openChannels).to.equal(0);
      expect((await p.exec(s1, ["echo", "next"])).stdout).to.equal("next\n");
    });

    it("a command killed by a signal reports the signal", async () => {
      const err = await pool().exec(s1, ["sh", "-c", "kill -TERM $$"]).catch((e) => e);
      expect(err).to.be.instanceOf(RemoteCommandError);
      expect(err.signal).to.equal("SIGTERM");
      expect(err.exitCode).to.equal(null);
    });
  });

  describe("sudo", () => {
    it("a non-root user runs commands as root through sudo", async () => {
      const p = pool({ user: lab.info.sudoUser, sudo: true });
      expect((await p.exec(s1, ["id", "-u"])).stdout).to.equal("0\n");
      expect((await p.exec(s1, ["id", "-u"], { sudo: false })).stdout.trim()).not.to.equal("0");
      // Compositions run entirely as root, hostile values still inert.
      const r = await p.exec(s1, shellWithArgs('id -u; printf %s "$1"', "$(id -u) it's"));
      expect(r.stdout).to.equal("0\n$(id -u) it's");
    });
  });

  describe("concurrency", () => {
    it("runs 50 concurrent commands over one connection within the channel bound", async () => {
      const p = pool();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => p.exec(s1, shellWithArgs('sleep 0.05; echo "$1"', String(i)))),
      );
      results.forEach((r, i) => expect(r.stdout).to.equal(`${i}\n`));
      const st = p.stats(s1.name);
      expect(st.connectionsOpened).to.equal(1);
      expect(st.commandsRun).to.equal(50);
      expect(st.maxOpenChannels).to.be.at.most(p.maxChannelsPerConnection);
      expect(st.maxOpenChannels).to.be.at.least(2); // it did run commands in parallel
      expect(st.openChannels).to.equal(0);
    });
  });

  describe("dropped connections", () => {
    it("reconnects after the sshd session serving us is killed", async () => {
      const p = pool();
      // The shell's parent is the sshd process of our session.
      const sessionPid = (await p.exec(s2, ["sh", "-c", "echo $PPID"])).stdout.trim();
      expect(sessionPid).to.match(/^\d+$/);
      const before = p.stats(s2.name).connectionsOpened;
      await lab.inServer(s2.name, ["kill", "-KILL", sessionPid]);
      const r = await p.exec(s2, ["echo", "back"]);
      expect(r.stdout).to.equal("back\n");
      expect(p.stats(s2.name).connectionsOpened).to.equal(before + 1);
    });
  });

  describe("a command asked for while the connection closes", () => {
    it("starts on a new connection: never 'cannot start ... Not connected' (20 rounds)", async () => {
      for (let round = 0; round < 20; round++) {
        const p = pool();
        await p.exec(s2, ["true"]);
        // A command on the connection kills the sshd session serving it; meanwhile a command is asked for every
        // millisecond, so some are asked for exactly while the connection is going away.
        let gone = false;
        const killer = p.exec(s2, ["sh", "-c", "kill -KILL $PPID"]).then(
          () => "ran",
          (e: Error) => e,
        );
        void killer.then(() => (gone = true));
        const asked: Promise<unknown>[] = [];
        while (!gone && asked.length < 400) {
          asked.push(p.exec(s2, ["echo", "back"]).then((r) => (r.stdout === "back\n" ? r.stdout : `${JSON.stringify(r)}`), (e: Error) => e));
          await new Promise((r) => setTimeout(r, 1));
        }
        expect(await killer, `round ${round}`).to.be.instanceOf(ConnectionLostError);
        const answers = await Promise.all(asked);
        expect(answers.length, `round ${round}`).to.be.above(0);
        for (const a of answers) {
          // A command that had started on the old connection may be lost with it (it may have run); one that had
          // not started must run on a new connection.
          if (a instanceof Error) expect(a, `round ${round}: ${a.message}`).to.be.instanceOf(ConnectionLostError);
          else expect(a).to.equal("back\n");
        }
        expect((await p.exec(s2, ["echo", "back"])).stdout).to.equal("back\n");
        p.close();
      }
    });
  });

  describe("hung server", () => {
    it("hits the command deadline, then the connect deadline, and recovers after heal", async () => {
      const p = pool({}, { connectTimeoutMs: 2000 });
      await p.exec(s2, ["true"]); // connected before the hang
      await lab.fault("hang", s2.name);
      try {
        const t0 = Date.now();
        const err = await p.exec(s2, ["echo", secret("hidden")], { timeoutMs: 1500 }).catch((e) => e);
        expect(err).to.be.instanceOf(CommandTimeoutError);
        expect(err.message).to.contain(s2.name).and.contain("1500 ms").and.contain("echo ***");
        expect(Date.now() - t0).to.be.below(5000);

        const fresh = pool({}, { connectTimeoutMs: 1500 });
        const t1 = Date.now();
        // 24 commands = 3 slot-fulls; all share the one connect attempt's failure instead of one deadline each.
        const errs = await Promise.all(
          Array.from({ length: 24 }, () => fresh.exec(s2, ["true"], { timeoutMs: 1500 }).catch((e) => e)),
        );
        for (const cerr of errs) {
          expect(cerr).to.be.instanceOf(ConnectTimeoutError);
          expect(cerr.message).to.contain(s2.name).and.contain("1500 ms");
        }
        expect(Date.now() - t1).to.be.below(2900);
        expect(fresh.stats(s2.name).connectionsOpened).to.equal(0);
      } finally {
        await lab.fault("heal", s2.name);
      }
      const r = await p.exec(s2, ["echo", "alive"], { timeoutMs: 10000 });
      expect(r.stdout).to.equal("alive\n");
    });
  });
});
