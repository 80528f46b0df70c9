// The demo's Pulumi CLI path (used where the CLI is installed; it cannot be installed on our machines): the exact
// calls, run against a stand-in `pulumi` executable that records what it is given. Secrets must arrive on stdin.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pulumiCliEnv, pulumiCliSteps, pulumiOnPath, runCliStep } from "../../demo/pulumi-cli";

describe("demo: the Pulumi CLI path", () => {
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-fake-pulumi-"));
    log = path.join(dir, "calls.log");
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      `#!/bin/sh
# records argv, stdin and the backend, like a tape recorder
{ printf 'argv:'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\\n'; printf 'stdin:%s\\n' "$(cat)"; printf 'backend:%s pass-set:%s\\n' "$PULUMI_BACKEND_URL" "\${PULUMI_CONFIG_PASSPHRASE:+yes}"; } >> "${"$"}{FAKE_PULUMI_LOG}"
[ "$1 $2" = "stack output" ] && echo '{"clusterRoot":"/OVS/X","guests":{"vm1":"ovs1"}}'
[ "$1" = fail ] && exit 3
exit 0
`,
      { mode: 0o755 },
    );
    env = { ...pulumiCliEnv(path.join(dir, "backend"), "pass-123"), PATH: `${dir}:${process.env.PATH}`, FAKE_PULUMI_LOG: log };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("creates the stack, sets config with secrets on stdin, previews, applies and reads outputs", async () => {
    const steps = pulumiCliSteps("demo", {
      servers: { value: '[{"name":"ovs1"}]', secret: false },
      sshPrivateKey: { value: "-----BEGIN KEY-----\nsecret-material\n-----END KEY-----", secret: true },
    });
    for (const s of [...steps.setup, steps.preview, steps.up]) await runCliStep(s, { cwd: dir, env });
    const outputs = JSON.parse(await runCliStep(steps.outputs, { cwd: dir, env }));
    expect(outputs).to.deep.equal({ clusterRoot: "/OVS/X", guests: { vm1: "ovs1" } });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("argv:"));
    expect(calls).to.deep.equal([
      "argv: [stack] [init] [demo] [--non-interactive]",
      'argv: [config] [set] [--stack] [demo] [--] [servers] [[{"name":"ovs1"}]]',
      "argv: [config] [set] [--secret] [--stack] [demo] [sshPrivateKey]",
      "argv: [preview] [--stack] [demo] [--non-interactive]",
      "argv: [up] [--stack] [demo] [--yes] [--skip-preview] [--non-interactive]",
      "argv: [stack] [output] [--stack] [demo] [--json]",
    ]);
    const text = fs.readFileSync(log, "utf8");
    // The key went in on stdin only, and every call saw the local backend and a passphrase.
    expect(calls.join("\n")).to.not.contain("secret-material");
    expect(text).to.contain("stdin:-----BEGIN KEY-----\nsecret-material\n-----END KEY-----");
    expect(text.match(/backend:file:\/\/.*\/backend pass-set:yes/g)?.length).to.equal(6);
  });

  it("a failing step names itself and does not echo config values", async () => {
    const e = await runCliStep({ what: "config sshPrivateKey (secret)", argv: ["pulumi", "fail"], input: "secret-material" }, { cwd: dir, env }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(e?.message).to.match(/^config sshPrivateKey \(secret\) failed/);
    expect(e?.message).to.not.contain("secret-material");
  });

  it("finds the CLI on PATH, and says no where there is none", async () => {
    expect(await pulumiOnPath(env)).to.equal(true);
    expect(await pulumiOnPath({ ...env, PATH: "/nonexistent" })).to.equal(false);
  });
});
