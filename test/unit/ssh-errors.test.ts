// Secrets must not leak through any displayed form of an error or of the credentials.
import { expect } from "chai";
import { inspect } from "util";
import { ConnectionConfig } from "../../provider/ssh/connection";
import { CommandTimeoutError, RemoteCommandError } from "../../provider/ssh/errors";
import { maskSecrets, QuoteError, renderCommand, secret } from "../../provider/ssh/quote";
import { SshPool } from "../../provider/ssh/pool";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretkeymaterial\n-----END OPENSSH PRIVATE KEY-----\n";

describe("ssh secret masking", () => {
  it("masks secret args in RemoteCommandError message, toString, JSON and inspect", () => {
    const r = renderCommand(["mysql", "-p", secret("t0ps3cret"), "-e", "select 1"]);
    const stderr = maskSecrets("access denied for password t0ps3cret\n", r.secrets);
    const e = new RemoteCommandError("srv1", r.display, 1, null, stderr, "");
    for (const form of [e.message, String(e), JSON.stringify(e), inspect(e), e.stack ?? ""]) {
      expect(form).not.to.contain("t0ps3cret");
    }
    expect(e.message).to.contain("srv1").and.contain("code 1").and.contain("***").and.contain("access denied");
    expect(JSON.parse(JSON.stringify(e))).to.include({ server: "srv1", exitCode: 1, name: "RemoteCommandError" });
  });

  it("masks the longest secret first so overlapping secrets leave nothing", () => {
    expect(maskSecrets("ab abc", ["ab", "abc"])).to.equal("*** ***");
  });

  it("names server, masked command and deadline in CommandTimeoutError", () => {
    const r = renderCommand(["curl", "-u", secret("user:pw")]);
    const e = new CommandTimeoutError("srv2", r.display, 1500);
    expect(e.message).to.equal("command `curl -u ***` on srv2 timed out after 1500 ms");
  });

  it("never shows the private key or passphrase of the credentials or the pool", () => {
    const creds = { user: "root", privateKey: KEY, passphrase: "pp-secret" };
    const config = new ConnectionConfig(creds);
    const pool = new SshPool({ credentials: creds });
    for (const form of [inspect(config), String(config), JSON.stringify(config), inspect(pool), JSON.stringify(pool)]) {
      expect(form).not.to.contain("secretkeymaterial");
      expect(form).not.to.contain("pp-secret");
    }
    expect(JSON.stringify(config)).to.contain('"privateKey":"***"');
    pool.close();
  });
});

describe("ssh pool without a network", () => {
  it("rejects (not throws) a command with a NUL byte, before connecting", async () => {
    const pool = new SshPool({ credentials: { user: "root", privateKey: KEY } });
    const p = pool.exec({ name: "nowhere", address: "127.0.0.1", port: 1 }, ["echo", "a\0b"]);
    const err = await p.catch((e) => e);
    expect(err).to.be.instanceOf(QuoteError);
    expect(pool.stats("nowhere").connectionsOpened).to.equal(0);
    pool.close();
  });

  it("refuses credentials with neither key nor agent", () => {
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      expect(() => new ConnectionConfig({ user: "root", agent: true })).to.throw(/private key or an agent/);
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });

  it("names the step, the server, the exit code and the last stderr lines: never a whole script", () => {
    const script = ["set -e", 'mkdir -p -- "$(dirname -- "$1")"', 't="$1.tmp"', 'cat > "$t"', 'mv -f -- "$t" "$1"'].join("\n");
    const r = renderCommand(["sh", "-c", script, "sh", "/etc/fstab"]);
    const stderr = ["line 1 of noise", "line 2 of noise", "mv: cannot move", "Read-only file system", ""].join("\n");
    const e = new RemoteCommandError("ovs2", r.display, 1, null, stderr, "", "writing /etc/fstab");
    expect(e.message).to.equal("writing /etc/fstab: `sh -c 'set -e …(5-line script)` on ovs2 exited with code 1: line 2 of noise | mv: cannot move | Read-only file system");
    expect(e.message).not.to.contain("mkdir");
    expect(e.message.split("\n")).to.have.length(1);
  });
});
