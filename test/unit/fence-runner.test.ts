// The fence runner with real processes (shell scripts standing in for ipmitool and a fence agent): "off" only
// when a status query says off; a fence that lies (off exits 0, status says on) fails; the password reaches the
// command through its environment, a file or its stdin, and never shows in a detail.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parsePowerStatus, runFence } from "../../watchdog/daemon/fence-runner";

const S = { name: "ovs2", address: "192.0.2.12" };

describe("fence runner: confirmation by a status query", function () {
  this.timeout(30000);
  let dir: string;
  /** A stand-in ipmitool: `power off` exits 0 (or $OFF_EXIT); `power status` prints what $STATE_FILE says. */
  let ipmitool: string;
  let agent: string;
  const state = () => path.join(dir, "state");

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fence-runner-"));
    ipmitool = path.join(dir, "ipmitool");
    fs.writeFileSync(
      ipmitool,
      `#!/bin/sh
# the last argument is the action; every call is recorded
action=$(eval echo \\\${$#})
echo "$action" >> "${dir}/calls"
case "$action" in
  off) printf '%s\\n' "$IPMI_PASSWORD" > "${dir}/env-password"; echo "Chassis Power Control: Down/Off"; exit \${OFF_EXIT:-0} ;;
  status) n=$(grep -c status "${dir}/calls"); s=$(cat "${dir}/state"); [ "$s" = "off-after-3" ] && { [ "$n" -ge 3 ] && s=off || s=on; }; echo "Chassis Power is $s" ;;
esac
`,
      { mode: 0o755 },
    );
    agent = path.join(dir, "fence_agent");
    fs.writeFileSync(
      agent,
      `#!/bin/sh
# fence-agents convention: key=value lines on stdin; status exits 0 = on, 2 = off
input=$(cat)
action=$(printf '%s\\n' "$input" | sed -n 's/^action=//p')
printf '%s\\n' "$input" > "${dir}/stdin-$action"
case "$action" in
  off) echo "Success: Powered OFF"; exit 0 ;;
  status) s=$(cat "${dir}/state"); echo "Status: $(echo $s | tr a-z A-Z)"; [ "$s" = off ] && exit 2; exit 0 ;;
esac
exit 1
`,
      { mode: 0o755 },
    );
  });
  beforeEach(() => {
    for (const f of fs.readdirSync(dir)) if (!["ipmitool", "fence_agent"].includes(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const calls = () => (fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : []);
  const pwFile = (pw: string, mode = 0o600, name = "ipmi-password") => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, pw + "\n", { mode });
    fs.chmodSync(f, mode);
    return f;
  };
  const ipmiMethod = (extra: Record<string, unknown> = {}) => ({
    off: [ipmitool, "-H", "{server}-ilo", "-E", "chassis", "power", "off"],
    status: [ipmitool, "-H", "{server}-ilo", "-E", "chassis", "power", "status"],
    env: { IPMI_PASSWORD: "{password}" },
    passwordFile: pwFile("pw-ipmi-1"),
    statusIntervalMs: 50,
    ...extra,
  });

  it("off, then status says off: fenced; the password came in IPMI_PASSWORD", async () => {
    fs.writeFileSync(state(), "off");
    const r = await runFence(ipmiMethod(), S, 5000);
    expect(r.outcome).to.equal("off");
    expect(r.detail).to.match(/confirmed by status: Chassis Power is off/).and.not.include("pw-ipmi-1");
    expect(calls()).to.deep.equal(["off", "status"]);
    expect(fs.readFileSync(path.join(dir, "env-password"), "utf8").trim()).to.equal("pw-ipmi-1");
  });

  it("status says on for a while, then off: fenced once it says off", async () => {
    fs.writeFileSync(state(), "off-after-3");
    const r = await runFence(ipmiMethod(), S, 5000);
    expect(r.outcome).to.equal("off");
    expect(calls()).to.deep.equal(["off", "status", "status", "status"]);
  });

  it("a lying fence (off exits 0, status still on) fails at the deadline, saying so", async () => {
    fs.writeFileSync(state(), "on");
    const t0 = Date.now();
    const r = await runFence(ipmiMethod({ timeoutMs: 600 }), S, 5000);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.match(/not confirmed: .* exited 0 but the server is still on after \d+ status queries .*Chassis Power is on.*may be lying/);
    expect(calls().filter((c) => c === "status").length).to.be.at.least(2);
    expect(Date.now() - t0).to.be.below(3000); // bounded by the fence's timeout, with slack for a busy machine
  });

  it("never runs past the core's fence deadline, whatever the method's timeoutMs", async () => {
    fs.writeFileSync(state(), "on");
    const t0 = Date.now();
    const r = await runFence(ipmiMethod({ timeoutMs: 30000 }), S, 400);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.match(/still on/);
    expect(Date.now() - t0).to.be.below(5000);
  });

  it("off failing is a failure (output masked); status is not asked", async () => {
    fs.writeFileSync(state(), "off");
    const r = await runFence(ipmiMethod({ off: ["sh", "-c", 'echo "auth failed for $IPMI_PASSWORD" >&2; exit 1'] }), S, 5000);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.match(/exited 1: auth failed for \*\*\*/).and.not.include("pw-ipmi-1");
    expect(calls()).to.deep.equal([]);
  });

  it("an off that does not answer is a timeout; a status that does not answer too", async () => {
    const off = await runFence(ipmiMethod({ off: ["sleep", "30"], timeoutMs: 300 }), S, 5000);
    expect(off.outcome).to.equal("timeout");
    const status = await runFence(ipmiMethod({ status: ["sleep", "30"], timeoutMs: 300 }), S, 5000);
    expect(status.outcome).to.equal("timeout");
    expect(status.detail).to.match(/status query did not answer/);
  });

  it("a status query that keeps failing is a failure naming its exit", async () => {
    const r = await runFence(ipmiMethod({ status: ["sh", "-c", "echo Error: Unable to establish IPMI v2 / RMCP+ session >&2; exit 1"], timeoutMs: 400 }), S, 5000);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.match(/failed \(exit 1: Error: Unable to establish IPMI v2/);
  });

  it("ipmitool -f: the command gets the password file's path, never the password", async () => {
    fs.writeFileSync(state(), "off");
    const f = pwFile("pw-file-2");
    const r = await runFence({ off: ["sh", "-c", 'cat "$1" > "$2"', "off", "{passwordFile}", path.join(dir, "read")], status: ["echo", "Chassis Power is off"], passwordFile: f }, S, 5000);
    expect(r.outcome).to.equal("off");
    expect(fs.readFileSync(path.join(dir, "read"), "utf8").trim()).to.equal("pw-file-2");
  });

  it("a password file others can read is refused when the fence runs, naming it and its mode", async () => {
    fs.writeFileSync(state(), "off");
    const r = await runFence(ipmiMethod({ passwordFile: pwFile("pw-3", 0o644, "open-password") }), S, 5000);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.include(`${path.join(dir, "open-password")} has mode 0644`);
    expect(calls()).to.deep.equal([]);
  });

  it("a fence agent gets key=value lines on stdin: action=off, then action=status (exit 2 = off)", async () => {
    fs.writeFileSync(state(), "off");
    process.env.WD_TEST_AGENT_PW = "pw-agent-4";
    try {
      const r = await runFence({ agent: [agent], options: { ip: "{server}-ilo", username: "admin", password: "{password}" }, passwordFromEnv: "WD_TEST_AGENT_PW" }, S, 5000);
      expect(r.outcome).to.equal("off");
      expect(r.detail).to.include("action=off ip=ovs2-ilo username=admin password=***").and.not.include("pw-agent-4");
      expect(fs.readFileSync(path.join(dir, "stdin-off"), "utf8")).to.equal("action=off\nip=ovs2-ilo\nusername=admin\npassword=pw-agent-4\n");
      expect(fs.readFileSync(path.join(dir, "stdin-status"), "utf8")).to.equal("action=status\nip=ovs2-ilo\nusername=admin\npassword=pw-agent-4\n");
    } finally {
      delete process.env.WD_TEST_AGENT_PW;
    }
  });

  it("a fence agent whose status stays ON: not confirmed", async () => {
    fs.writeFileSync(state(), "on");
    const r = await runFence({ agent: [agent], options: {}, timeoutMs: 300, statusIntervalMs: 50 }, S, 5000);
    expect(r.outcome).to.equal("failed");
    expect(r.detail).to.match(/still on .*Status: ON/);
  });

  it("the watchdog's own password variable is not passed on unless env names it", async () => {
    process.env.WD_TEST_OWN_PW = "pw-own-5";
    try {
      const out = path.join(dir, "env-dump");
      const r = await runFence({ off: ["sh", "-c", 'env > "$0"', out], status: ["echo", "Chassis Power is off"], env: { TOOL_PW: "{password}" }, passwordFromEnv: "WD_TEST_OWN_PW" }, S, 5000);
      expect(r.outcome).to.equal("off");
      const env = fs.readFileSync(out, "utf8");
      expect(env).to.include("TOOL_PW=pw-own-5").and.not.include("WD_TEST_OWN_PW");
    } finally {
      delete process.env.WD_TEST_OWN_PW;
    }
  });
});

describe("fence runner: what a status query says", () => {
  const cases: [number, string, string][] = [
    [0, "Chassis Power is off\n", "off"], // ipmitool chassis power status (ipmitool lib/ipmi_chassis.c)
    [0, "Chassis Power is on\n", "not-off"],
    [2, "Status: OFF\n", "off"], // fence-agents: status exits 2 when off (doc/FenceAgentAPI.md)
    [0, "Status: ON\n", "not-off"],
    [1, "Failed: Unable to obtain correct plug status or plug is not available\n", "not-off"],
    [0, "", "not-off"],
    [0, "Chassis Power is offline?\n", "not-off"],
  ];
  for (const [code, out, want] of cases) {
    it(`exit ${code} ${JSON.stringify(out.trim())} -> ${want}`, () => expect(parsePowerStatus(code, out)).to.equal(want));
  }
});
