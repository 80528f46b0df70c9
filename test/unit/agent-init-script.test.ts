import { expect } from "chai";
import { execFileSync } from "child_process";
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
});
