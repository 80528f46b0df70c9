// The fence and endpoint parts of the watchdog config: the safe forms are accepted; a password in an argument,
// the old one-command form, an inline password and an open /status beyond loopback are refused, each with a
// message that shows what to write instead.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, fenceFor, isLoopbackHost, loadWatchdogConfig, parseWatchdogConfig } from "../../watchdog/daemon/config";

const base = () => ({ pool: { addresses: ["192.0.2.11"] }, ssh: { privateKeyFile: "/etc/ovm-ha/key", knownHostsFile: "/etc/ovm-ha/known_hosts" } });
const ipmi = (action: string, ...pw: string[]) => ["ipmitool", "-I", "lanplus", "-H", "{server}-ilo", "-U", "admin", ...pw, "chassis", "power", action];
const withFence = (f: unknown) => ({ ...base(), fence: { "*": f } });
const refused = (raw: unknown): string => {
  try {
    parseWatchdogConfig(raw, "/etc/ovm-ha");
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("the config was accepted");
};

describe("watchdog config: fence methods", () => {
  it("accepts commands with the password in the environment (ipmitool -E) or as a file (ipmitool -f)", () => {
    const env = parseWatchdogConfig(withFence({ off: ipmi("off", "-E"), status: ipmi("status", "-E"), env: { IPMI_PASSWORD: "{password}" }, passwordFile: "ipmi-password" }), "/etc/ovm-ha");
    expect(fenceFor(env, "ovs1")).to.include({ passwordFile: "/etc/ovm-ha/ipmi-password" });
    const file = parseWatchdogConfig(withFence({ off: ipmi("off", "-f", "{passwordFile}"), status: ipmi("status", "-f", "{passwordFile}"), passwordFile: "/etc/ovm-ha/ipmi-password" }));
    expect(fenceFor(file, "ovs1")!.status).to.include("{passwordFile}");
  });

  it("accepts a fence agent with its options (and the password) for its standard input", () => {
    const c = parseWatchdogConfig(withFence({ agent: ["fence_ipmilan"], options: { ip: "{server}-ilo", username: "admin", password: "{password}", lanplus: "1" }, passwordFromEnv: "OVMHA_IPMI_PASSWORD" }));
    expect(fenceFor(c, "ovs2")).to.deep.include({ agent: ["fence_ipmilan"], passwordFromEnv: "OVMHA_IPMI_PASSWORD" });
  });

  it("refuses {password} in any argument, showing the safe forms", () => {
    for (const key of ["off", "status"]) {
      const f: Record<string, unknown> = { off: ipmi("off", "-E"), status: ipmi("status", "-E"), env: { IPMI_PASSWORD: "{password}" }, passwordFile: "/p" };
      f[key] = ipmi(key, "-P", "{password}");
      const msg = refused(withFence(f));
      expect(msg).to.include(`fence.*.${key}.8: "{password}" in a command's arguments is refused`);
      expect(msg).to.include('"env": {"IPMI_PASSWORD": "{password}"}').and.include('"-f", "{passwordFile}"').and.include('"agent": ["fence_ipmilan"]');
    }
    expect(refused(withFence({ agent: ["fence_ipmilan", "--password={password}"], passwordFile: "/p" }))).to.include("fence.*.agent.1:");
  });

  it("refuses the old one-command form, showing the new one with a status query", () => {
    const msg = refused(withFence({ command: ipmi("off", "-P", "{password}"), passwordFile: "/p" }));
    expect(msg).to.match(/fence\.\*\.command: the one-command form is refused: a power fence is confirmed by a status query/);
    expect(msg).to.include('"status": ["ipmitool"').and.include('"chassis", "power", "status"');
  });

  it("refuses an inline password and the old passwordEnv, saying what to write instead", () => {
    expect(refused(withFence({ off: ["x"], status: ["y"], env: { P: "{password}" }, password: "hunter2" }))).to.match(/fence\.\*\.password: .*chmod 600.*passwordFile/).and.not.include("hunter2");
    expect(refused(withFence({ off: ["x"], status: ["y"], passwordEnv: "PW" }))).to.match(/fence\.\*\.passwordEnv: renamed "passwordFromEnv"/);
  });

  it("refuses a method without its status query, or a password never handed to the command", () => {
    expect(refused(withFence({ off: ["x"] }))).to.match(/fence\.\*\.status: missing: .*not proof/);
    expect(refused(withFence({ off: ["x"], status: ["y"], passwordFile: "/p" }))).to.match(/fence\.\*: a password is given but never handed to the command/);
    expect(refused(withFence({ off: ["x"], status: ["y"], env: { P: "{password}" } }))).to.match(/uses \{password\} but gives neither/);
    expect(refused(withFence({ off: ["x", "{passwordFile}"], status: ["y"], passwordFromEnv: "PW" }))).to.match(/uses \{passwordFile\} but gives no "passwordFile"/);
    expect(refused(withFence({ off: ["x"], status: ["y"], agent: ["z"] }))).to.match(/either "off" \+ "status" \(commands\) or "agent"/);
  });

  it("refuses agent options the stdin protocol cannot carry, and action (the watchdog sets it)", () => {
    expect(refused(withFence({ agent: ["a"], options: { action: "reboot" } }))).to.match(/fence\.\*\.options\.action: set by the watchdog/);
    expect(refused(withFence({ agent: ["a"], options: { "ip addr": "x" } }))).to.match(/fence\.\*\.options\.ip addr: agent option names/);
    expect(refused(withFence({ agent: ["a"], options: { ip: "x\naction=reboot" } }))).to.match(/fence\.\*\.options\.ip: values must be one line/);
  });
});

describe("watchdog config: metrics and status endpoint", () => {
  it("listens on 127.0.0.1 unless told otherwise", () => {
    expect(parseWatchdogConfig({ ...base(), metrics: { port: 9464 } }).metrics).to.deep.equal({ port: 9464, host: "127.0.0.1" });
  });

  it("listening beyond loopback needs a status token file", () => {
    expect(refused({ ...base(), metrics: { port: 9464, host: "0.0.0.0" } })).to.match(/metrics\.statusTokenFile: required when metrics\.host is "0\.0\.0\.0".*openssl rand -hex 32/);
    expect(refused({ ...base(), metrics: { port: 9464, host: "192.0.2.1" } })).to.match(/metrics\.statusTokenFile: required/);
    const c = parseWatchdogConfig({ ...base(), metrics: { port: 9464, host: "0.0.0.0", statusTokenFile: "status-token" } }, "/etc/ovm-ha");
    expect(c.metrics).to.deep.equal({ port: 9464, host: "0.0.0.0", statusTokenFile: "/etc/ovm-ha/status-token" });
    expect(parseWatchdogConfig({ ...base(), metrics: { port: 9464, host: "127.0.0.9" } }).metrics!.host).to.equal("127.0.0.9");
  });

  it("knows loopback", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "localhost"].map(isLoopbackHost)).to.deep.equal([true, true, true, true]);
    expect(["0.0.0.0", "::", "192.0.2.1", "127.0.0.1.example.com"].map(isLoopbackHost)).to.deep.equal([false, false, false, false]);
  });
});

describe("watchdog config file with a passphrase written in it", () => {
  it("must itself be private", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wd-conf-"));
    try {
      const file = path.join(dir, "watchdog.json");
      fs.writeFileSync(file, JSON.stringify({ ...base(), ssh: { ...base().ssh, passphrase: "pp-secret" } }), { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      expect(() => loadWatchdogConfig(file)).to.throw(ConfigError, new RegExp(`ssh\\.passphrase \\(written in the config\\): ${file} has mode 0644`));
      fs.chmodSync(file, 0o600);
      expect(loadWatchdogConfig(file).ssh.passphrase).to.equal("pp-secret");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
