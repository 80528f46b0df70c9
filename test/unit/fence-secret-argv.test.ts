// A fence started through the real path (the watchdog's fence runner) with a fence command that sleeps a moment
// in a child process and records what it was given: while it runs, no process argument on this machine holds
// the password (/proc/PID/cmdline of the fence process, its children, and every other process), yet the
// command did get the password (its environment or its standard input).
import { expect } from "chai";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runFence } from "../../watchdog/daemon/fence-runner";
import type { FenceMethodConfig } from "../../watchdog/daemon/config";

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  argv: string[];
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 1).trim().split(" ");
    const [ppid, pgid] = [Number(fields[1]), Number(fields[2])];
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
    return { pid, ppid, pgid, argv };
  } catch {
    return undefined; // gone meanwhile
  }
}

const allProcs = (): Proc[] =>
  fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))).filter((p): p is Proc => p !== undefined);

/** Every process of the fence: the recording process's group (the runner starts each command in its own) and descendants. */
function fenceProcesses(recorder: number, procs: Proc[]): Proc[] {
  const group = procs.find((p) => p.pid === recorder)?.pgid;
  const ids = new Set([recorder]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!ids.has(p.pid) && (ids.has(p.ppid) || p.pgid === group)) (ids.add(p.pid), (grew = true));
  }
  return procs.filter((p) => ids.has(p.pid));
}

describe("fence secrets: never in a process's arguments", function () {
  this.timeout(30000);
  let dir: string;
  let script: string;
  const password = `pw-${randomBytes(12).toString("hex")}`;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fence-argv-"));
    script = path.join(dir, "fence-tool");
    // $1: the action. Records pid, env and stdin, then sleeps in a child so that children are checked too.
    fs.writeFileSync(
      script,
      `#!/bin/sh
action=$1
printf '%s' "\${IPMI_PASSWORD:-}" > "${dir}/env.$action"
if [ -p /dev/stdin ] || [ -f /dev/stdin ]; then cat > "${dir}/stdin.$action"; fi
echo $$ > "${dir}/pid.$action.tmp" && mv "${dir}/pid.$action.tmp" "${dir}/pid.$action"
sleep 1.5 &
wait
[ "$action" = off ] && exit 0
echo "Chassis Power is off"
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, "ipmi-password"), password + "\n", { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    for (const f of fs.readdirSync(dir)) if (/^(pid|env|stdin)\./.test(f)) fs.rmSync(path.join(dir, f));
  });

  /** Runs the fence; while each action runs, looks at every process's arguments. */
  async function fenceAndWatch(method: FenceMethodConfig): Promise<{ outcome: string; seen: Record<string, Proc[]>; leaks: Proc[] }> {
    const run = runFence(method, { name: "ovs1", address: "192.0.2.11" }, 10000);
    const seen: Record<string, Proc[]> = {};
    const leaks: Proc[] = [];
    for (const action of ["off", "status"]) {
      const pidFile = path.join(dir, `pid.${action}`);
      const t0 = Date.now();
      while (!fs.existsSync(pidFile)) {
        if (Date.now() - t0 > 8000) throw new Error(`the fence's ${action} command never started`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const leader = Number(fs.readFileSync(pidFile, "utf8"));
      // Look until the child (sleep) exists too: then the script and its child are both checked.
      let fence: Proc[] = [];
      const sleeping = () => fence.some((p) => p.argv[0] === "sleep");
      for (let i = 0; i < 100 && !sleeping(); i++) {
        const procs = allProcs();
        fence = fenceProcesses(leader, procs);
        leaks.push(...procs.filter((p) => p.argv.some((a) => a.includes(password))));
        if (!sleeping()) await new Promise((r) => setTimeout(r, 10));
      }
      seen[action] = fence;
    }
    const r = await run;
    return { outcome: r.outcome, seen, leaks };
  }

  it("the check itself sees a password placed in a process's arguments (it can fail)", async () => {
    const child = spawn("sh", ["-c", "sleep 2; true", "fence-tool", `-P${password}`], { stdio: "ignore" });
    try {
      let found: Proc[] = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        found = allProcs().filter((p) => p.argv.some((a) => a.includes(password)));
        if (found.length === 0) await new Promise((r) => setTimeout(r, 10));
      }
      expect(found.map((p) => p.pid)).to.include(child.pid);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("ipmitool style (-E): the password is in the command's environment only", async () => {
    const method: FenceMethodConfig = {
      off: [script, "off", "-H", "{server}-ilo", "-U", "admin", "-E"],
      status: [script, "status", "-H", "{server}-ilo", "-U", "admin", "-E"],
      env: { IPMI_PASSWORD: "{password}" },
      passwordFile: path.join(dir, "ipmi-password"),
    };
    const { outcome, seen, leaks } = await fenceAndWatch(method);
    expect(outcome).to.equal("off");
    for (const action of ["off", "status"]) {
      // The check looked at the right processes: the script with its arguments, and its sleeping child.
      expect(seen[action].map((p) => p.argv.slice(1, 3).join(" ")), action).to.include(`${script} ${action}`);
      expect(seen[action].map((p) => p.argv[0]), action).to.include("sleep");
      expect(fs.readFileSync(path.join(dir, `env.${action}`), "utf8"), `${action} got the password`).to.equal(password);
    }
    expect(leaks.map((p) => `${p.pid}: ${p.argv.join(" ")}`)).to.deep.equal([]);
  });

  it("fence agent style: the password is on the agent's standard input only", async () => {
    const method: FenceMethodConfig = {
      agent: [script, "agent"],
      options: { ip: "{server}-ilo", username: "admin", password: "{password}" },
      passwordFile: path.join(dir, "ipmi-password"),
    };
    // The agent is called the same way for both actions; tell them apart by what it read.
    const wrapper = path.join(dir, "agent-wrapper");
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh
input=$(cat)
action=$(printf '%s\\n' "$input" | sed -n 's/^action=//p')
printf '%s\\n' "$input" | exec "${script}" "$action"
`,
      { mode: 0o755 },
    );
    method.agent = [wrapper];
    const { outcome, seen, leaks } = await fenceAndWatch(method);
    expect(outcome).to.equal("off");
    for (const action of ["off", "status"]) {
      expect(seen[action].map((p) => p.argv[0]), action).to.include("sleep");
      expect(seen[action].length, action).to.be.at.least(2);
      expect(fs.readFileSync(path.join(dir, `stdin.${action}`), "utf8"), `${action} got the password`).to.include(`password=${password}\n`).and.include(`action=${action}\n`);
    }
    expect(leaks.map((p) => `${p.pid}: ${p.argv.join(" ")}`)).to.deep.equal([]);
  });
});
