import { expect } from "chai";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AGENT_PATHS, agentInitScript } from "../../watchdog/agent/agent-init-script";

describe("agent init script (watchdog/agent/agent-init-script.ts)", () => {
  const script = agentInitScript({ server: "ovs1", clusterRoot: "/OVS/ABC" });
  it("is an EL5 init script chkconfig can read: start at 98 in 3/4/5, stop at 02 (after the drain hook's K01)", () => {
    expect(script.split("\n")[0]).to.equal("#!/bin/sh");
    expect(script).to.match(/^# chkconfig: 345 98 02$/m);
    expect(AGENT_PATHS.startLinks).to.deep.equal(["/etc/rc.d/rc3.d/S98ovm-ha-agent", "/etc/rc.d/rc5.d/S98ovm-ha-agent"]);
    expect(AGENT_PATHS.stopLinks).to.deep.equal(["/etc/rc.d/rc0.d/K02ovm-ha-agent", "/etc/rc.d/rc6.d/K02ovm-ha-agent"]);
  });
  it("runs the agent with the server, the cluster root and the device, quoted", () => {
    expect(script).to.include("SERVER='ovs1'\nCLUSTER_ROOT='/OVS/ABC'\n");
    expect(script).to.include('"$OVM_HA" agent --server "$SERVER" --cluster-root "$CLUSTER_ROOT" --device "$DEVICE" --pid-file "$PIDFILE"');
  });
  it("is valid sh", () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "init-")), "ovm-ha-agent");
    fs.writeFileSync(f, script);
    execFileSync("sh", ["-n", f]);
  });
  it("refuses names and paths that are not plain", () => {
    expect(() => agentInitScript({ server: "ovs1;reboot", clusterRoot: "/OVS" })).to.throw(/server name 'ovs1;reboot'/);
    expect(() => agentInitScript({ server: "ovs1", clusterRoot: "/OVS/$(x)" })).to.throw(/clusterRoot '\/OVS\/\$\(x\)'/);
    expect(() => agentInitScript({ server: "ovs1", clusterRoot: "OVS" })).to.throw(/absolute path/);
  });
  it("start reports a failure with the agent's last log lines, and status says stopped (run against a failing stand-in)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-run-"));
    const fake = path.join(dir, "ovm-ha");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'ovm-ha: cannot open the watchdog device /dev/watchdog: no such device' >&2\nexit 1\n", { mode: 0o755 });
    const text = script
      .replace(/^OVM_HA=.*$/m, `OVM_HA=${fake}`)
      .replace(/^PIDFILE=.*$/m, `PIDFILE=${dir}/pid`)
      .replace(/^LOCK=.*$/m, `LOCK=${dir}/lock`)
      .replace(/^LOG=.*$/m, `LOG=${dir}/log`);
    const f = path.join(dir, "init");
    fs.writeFileSync(f, text, { mode: 0o755 });
    let out = "";
    let code = 0;
    try {
      execFileSync("sh", [f, "start"], { encoding: "utf8" });
    } catch (e) {
      code = (e as { status: number }).status;
      out = (e as { stdout: string }).stdout;
    }
    expect(code).to.equal(1);
    expect(out).to.match(/failed to start/);
    expect(out).to.match(/no such device/);
    expect(fs.existsSync(`${dir}/lock`)).to.equal(false);
    let status = 0;
    try { execFileSync("sh", [f, "status"]); } catch (e) { status = (e as { status: number }).status; }
    expect(status).to.equal(3);
  });

  describe("start, status and stop against a stand-in agent (sh)", () => {
    let dir: string;
    let init: string;
    const sh = (action: string): { code: number; out: string } => {
      try {
        return { code: 0, out: execFileSync("sh", [init, action], { encoding: "utf8" }) };
      } catch (e) {
        return { code: (e as { status: number }).status, out: (e as { stdout: string }).stdout };
      }
    };
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-agent-"));
      const fake = path.join(dir, "ovm-ha");
      // Writes its pid file once "armed"; SIGTERM: logs a clean stop and exits at once (as the agent does).
      fs.writeFileSync(fake, [
        "#!/bin/sh",
        'while [ $# -gt 0 ]; do [ "$1" = --pid-file ] && pf=$2; shift; done',
        'trap \'echo "SIGTERM: stopping"; echo "stopped: slot says stopped, watchdog device disarmed (magic close)"; exit 0\' TERM',
        'echo $$ > "$pf"',
        "while :; do sleep 0.05; done",
        "",
      ].join("\n"), { mode: 0o755 });
      init = path.join(dir, "init");
      fs.writeFileSync(init, script
        .replace(/^OVM_HA=.*$/m, `OVM_HA=${fake}`)
        .replace(/^PIDFILE=.*$/m, `PIDFILE=${dir}/pid`)
        .replace(/^LOCK=.*$/m, `LOCK=${dir}/lock`)
        .replace(/^LOG=.*$/m, `LOG=${dir}/log`), { mode: 0o755 });
    });
    afterEach(() => {
      sh("stop");
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a clean stop is reported as one, every time (an agent reaped between two reads of /proc is gone, not alive)", function () {
      this.timeout(60000);
      for (let i = 0; i < 15; i++) {
        expect(sh("start"), `start #${i}`).to.include({ code: 0 });
        expect(sh("status").code, `status #${i}`).to.equal(0);
        const stop = sh("stop");
        expect(stop, `stop #${i}`).to.deep.equal({ code: 0, out: "ovm-ha-agent: stopped: slot says stopped, watchdog device disarmed\n" });
        expect(sh("status").code, `status after stop #${i}`).to.equal(3);
      }
    });

    it("a pid file naming another live process (a reused pid) is not the agent: status says stopped, stop leaves that process alone", () => {
      const other = spawn("sleep", ["30"], { stdio: "ignore" });
      try {
        fs.writeFileSync(path.join(dir, "pid"), `${other.pid}\n`);
        expect(sh("status").code).to.equal(3);
        expect(sh("stop")).to.deep.equal({ code: 0, out: "ovm-ha-agent: not running\n" });
        expect(other.exitCode, "the other process").to.equal(null);
        expect(other.signalCode).to.equal(null);
      } finally {
        other.kill("SIGKILL");
      }
    });

    it("an agent that logs an unclean stop makes stop fail, quoting it", () => {
      const fake = path.join(dir, "ovm-ha");
      fs.writeFileSync(fake, fs.readFileSync(fake, "utf8").replace(/echo "stopped: slot says stopped[^"]*"/, 'echo "STOP NOT CLEAN: stop requested while self-fencing (lease lost): the device stays armed, the server resets"'));
      expect(sh("start").code).to.equal(0);
      const stop = sh("stop");
      expect(stop.code).to.equal(1);
      expect(stop.out).to.include("stopped, NOT cleanly").and.include("self-fencing (lease lost)");
    });
  });
});

