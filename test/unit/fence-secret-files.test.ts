// Files the watchdog reads secrets from must be private (0600 or stricter, owned by root or the watchdog's
// user): the watchdog refuses to start otherwise, naming each file, the key that names it, and its mode.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";
import { assertSecretFilesPrivate, secretFiles, SecretFileError } from "../../watchdog/daemon/secret-files";
import { Watchdog } from "../../watchdog/daemon/watchdog";

describe("secret files must be private", function () {
  this.timeout(20000);
  let dir: string;
  const file = (name: string, mode: number, text = "secret\n") => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text, { mode });
    fs.chmodSync(f, mode);
    return f;
  };
  const config = (files: { key?: string; pw?: string; token?: string; passphrase?: string }) =>
    parseWatchdogConfig({
      pool: { addresses: ["127.0.0.1"] },
      ssh: { privateKeyFile: files.key ?? file("key", 0o600), passphraseFile: files.passphrase, knownHostsFile: path.join(dir, "known_hosts") },
      fence: { "*": { off: ["true"], status: ["true"], env: { IPMI_PASSWORD: "{password}" }, passwordFile: files.pw ?? file("pw", 0o600) } },
      metrics: files.token ? { port: 0, host: "0.0.0.0", statusTokenFile: files.token } : undefined,
      stateFile: path.join(dir, "state.json"),
    });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "wd-secret-files-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists every secret file the config names", () => {
    const c = config({ passphrase: file("pp", 0o600), token: file("token", 0o600) });
    expect(secretFiles(c).map((f) => f.key)).to.deep.equal(["ssh.privateKeyFile", "ssh.passphraseFile", "fence.*.passwordFile", "metrics.statusTokenFile"]);
    expect(() => assertSecretFilesPrivate(secretFiles(c))).to.not.throw();
  });

  it("0400 and 0600 pass; 0640, 0604 and 0644 are refused, each named with its mode", () => {
    expect(() => assertSecretFilesPrivate(secretFiles(config({ key: file("k400", 0o400) })))).to.not.throw();
    const c = config({ key: file("key-open", 0o644), pw: file("pw-group", 0o640), token: file("token-other", 0o604) });
    expect(() => assertSecretFilesPrivate(secretFiles(c)))
      .to.throw(SecretFileError)
      .with.property("message")
      .that.include(`ssh.privateKeyFile: ${path.join(dir, "key-open")} has mode 0644`)
      .and.include(`fence.*.passwordFile: ${path.join(dir, "pw-group")} has mode 0640`)
      .and.include(`metrics.statusTokenFile: ${path.join(dir, "token-other")} has mode 0604`)
      .and.include("chmod 600");
  });

  it("a file owned by another user is refused, naming the owner", function () {
    if (process.getuid?.() !== 0) throw new Error("this test chowns a file to another user: run it as root (as the suite does)");
    const pw = file("pw-nobody", 0o600);
    fs.chownSync(pw, 65534, 65534);
    expect(() => assertSecretFilesPrivate(secretFiles(config({ pw })))).to.throw(SecretFileError, /fence\.\*\.passwordFile: .*pw-nobody \(mode 0600\) is owned by uid 65534: it must be owned by root or the watchdog's user/);
  });

  it("a missing file is refused, naming it", () => {
    expect(() => assertSecretFilesPrivate(secretFiles(config({ pw: path.join(dir, "nope") })))).to.throw(SecretFileError, /fence\.\*\.passwordFile: cannot read .*nope: ENOENT/);
  });

  it("the watchdog refuses to start with a secret file others can read, before any connection", async () => {
    const wd = new Watchdog({ config: config({ pw: file("pw-open", 0o644) }), logger: pino({ level: "silent" }), processMetrics: false });
    try {
      const err = await wd.start().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).to.be.instanceOf(SecretFileError);
      expect(err!.message).to.match(/^refusing to start: secret files must be private:\n {2}fence\.\*\.passwordFile: .*pw-open has mode 0644/);
      expect(fs.existsSync(path.join(dir, "state.json"))).to.equal(false);
    } finally {
      wd.ssh.close();
    }
  });
});
