// etcd mode's fence off and drain answer behind the fencing-token guard, run by a real sh with a real flock on a
// temporary token file (what a pool server does): refused (exit 75, nothing run, nothing written) when a newer
// token is recorded; run otherwise, with the password reaching the command through its environment or a private
// file made from standard input, never through its arguments; and a newer token's write waits for a fence running.
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { FenceMethodConfig } from "../../watchdog/daemon/config";
import { writeFileCommand } from "../../watchdog/daemon/drain-request";
import { publishTokenCommand } from "../../watchdog/replica/fencing-token";
import { guardedCommand } from "../../watchdog/replica/fencing-token";
import { guardedFenceOff } from "../../watchdog/replica/guarded-fence";

const T = { name: "ovs2", address: "192.0.2.12" };
const PW = "s3cr3t pw'\"$x";

function run(argv: string[], input: string): { code: number | null; out: string } {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("the guarded fence off and drain answer (etcd mode)", function () {
  this.timeout(20000);
  let dir: string;
  let token: string;
  let stub: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "guarded-fence-"));
    token = path.join(dir, "leader-token");
    fs.writeFileSync(token, "7\n");
    // A stand-in ipmitool: records its arguments, $IPMI_PASSWORD, the -f file's content and mode, and its stdin.
    stub = path.join(dir, "ipmitool");
    fs.writeFileSync(
      stub,
      `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/argv"
printf '%s' "$IPMI_PASSWORD" > "${dir}/env"
prev=
for a in "$@"; do if [ "$prev" = -f ]; then cat "$a" > "${dir}/file"; stat -c %a "$a" > "${dir}/mode"; echo "$a" > "${dir}/path"; fi; prev=$a; done
cat > "${dir}/stdin"
echo "Chassis Power Control: Down/Off"
`,
      { mode: 0o755 },
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("an older token is refused: exit 75, the fence command never ran", () => {
    const f = { off: [stub, "-H", "{address}", "power", "off"], status: [stub, "power", "status"], env: { IPMI_PASSWORD: "{password}" }, passwordFromEnv: "X" } as unknown as FenceMethodConfig;
    const g = guardedFenceOff(f, T, PW, token, "6");
    const r = run(g.argv, g.input);
    expect(r.code).to.equal(75);
    expect(r.out).to.match(/fencing token 6 is older than 7/);
    expect(fs.existsSync(path.join(dir, "argv")), "the fence command ran").to.equal(false);
  });

  it("the current token runs it; the password goes through stdin into its environment, never its arguments", () => {
    const f = { off: [stub, "-H", "{address}", "power", "off"], status: [stub, "power", "status"], env: { IPMI_PASSWORD: "{password}" }, passwordFromEnv: "X" } as unknown as FenceMethodConfig;
    const g = guardedFenceOff(f, T, PW, token, "7");
    expect(g.argv.join(" ")).not.to.contain("s3cr3t");
    expect(g.display).not.to.contain("s3cr3t");
    const r = run(g.argv, g.input);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain("Down/Off");
    expect(fs.readFileSync(path.join(dir, "env"), "utf8")).to.equal(PW);
    expect(fs.readFileSync(path.join(dir, "argv"), "utf8").split("\n")).to.include("192.0.2.12");
  });

  it("{passwordFile}: a private copy (mode 600) made from stdin, removed afterwards", () => {
    const f = { off: [stub, "-H", "{address}", "-f", "{passwordFile}", "power", "off"], status: [stub, "power", "status"], passwordFile: "/nonexistent/on/the/server" } as unknown as FenceMethodConfig;
    const g = guardedFenceOff(f, T, PW, token, "8");
    expect(g.argv.join(" ")).not.to.contain("s3cr3t");
    expect(g.display).to.contain("{passwordFile}");
    const r = run(g.argv, g.input);
    expect(r.code, r.out).to.equal(0);
    expect(fs.readFileSync(path.join(dir, "file"), "utf8")).to.equal(PW);
    expect(fs.readFileSync(path.join(dir, "mode"), "utf8").trim()).to.equal("600");
    expect(fs.existsSync(fs.readFileSync(path.join(dir, "path"), "utf8").trim()), "the private copy was left behind").to.equal(false);
  });

  it("a fence agent gets its key=value lines on stdin, after the guard", () => {
    const f = { agent: [stub, "-f", "x"], options: { ip: "{address}", password: "{password}" }, passwordFromEnv: "X" } as unknown as FenceMethodConfig;
    const g = guardedFenceOff(f, T, PW, token, "7");
    const r = run(g.argv, g.input);
    expect(r.code, r.out).to.equal(0);
    expect(fs.readFileSync(path.join(dir, "stdin"), "utf8")).to.equal(`action=off\nip=192.0.2.12\npassword=${PW}\n`);
  });

  it("a newer token's write waits for a guarded fence still running, then the old token is refused", async () => {
    const slow = path.join(dir, "slow-off");
    fs.writeFileSync(slow, `#!/bin/sh\nsleep 1\necho off > "${dir}/done"\n`, { mode: 0o755 });
    const f = { off: [slow], status: [slow] } as unknown as FenceMethodConfig;
    const g = guardedFenceOff(f, T, undefined, token, "7");
    const fence = spawn(g.argv[0], g.argv.slice(1), { stdio: ["pipe", "ignore", "ignore"] });
    fence.stdin.end(g.input);
    await new Promise((r) => setTimeout(r, 300)); // the guard holds its shared lock by now
    const pub = publishTokenCommand(token, "9");
    const r = run(pub, "");
    expect(r.code, r.out).to.equal(0);
    expect(fs.existsSync(path.join(dir, "done")), "the new token was recorded before the running fence ended").to.equal(true);
    await new Promise((res) => fence.once("exit", res));
    const again = run(g.argv, g.input);
    expect(again.code).to.equal(75);
  });

  it("a drain answer written with an older token is refused and leaves the file as it was", () => {
    const file = path.join(dir, "requests", "ovs1.response.json");
    const ok = run(guardedCommand(token, "7", writeFileCommand(file)), '{"state":"accepted"}\n');
    expect(ok.code, ok.out).to.equal(0);
    const stale = run(guardedCommand(token, "6", writeFileCommand(file)), '{"state":"done"}\n');
    expect(stale.code).to.equal(75);
    expect(fs.readFileSync(file, "utf8")).to.equal('{"state":"accepted"}\n');
  });
});
