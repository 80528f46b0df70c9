// Where the Pulumi CLI is neither installed nor built and Go is missing, the build says so in one line, and every
// test that needs the CLI fails with that line (CliStack.create throws it): nothing skips silently.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliStack, PROJECT_DIR, PulumiCliMissing } from "./pulumi-cli";

describe("without the Pulumi CLI and without Go", () => {
  const saved = { PATH: process.env.PATH, OVM_HA_GO: process.env.OVM_HA_GO, OVM_HA_PULUMI_CACHE: process.env.OVM_HA_PULUMI_CACHE };
  let empty: string;
  before(() => {
    empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-pulumi-"));
    // No `pulumi` on PATH, an empty cache, and a Go that is not there.
    process.env.PATH = (process.env.PATH ?? "").split(":").filter((d) => !fs.existsSync(path.join(d, "pulumi"))).join(":");
    process.env.OVM_HA_PULUMI_CACHE = path.join(empty, "cache");
    process.env.OVM_HA_GO = path.join(empty, "go");
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it("tools/pulumi/build (what scripts/setup runs) says so in one line and exits 3", () => {
    const r = spawnSync("sh", [path.join(PROJECT_DIR, "tools", "pulumi", "build")], { encoding: "utf8" });
    expect(r.status).to.equal(3);
    expect(r.stdout).to.equal("");
    expect(r.stderr.trim().split("\n")).to.deep.equal([
      "the Pulumi CLI is not installed and Go is missing to build it: install Pulumi (https://www.pulumi.com/docs/install/) or Go >= 1.26.6, then run scripts/setup",
    ]);
  });

  it("a test that needs the CLI fails with that line", async () => {
    const err = await CliStack.create({ project: "ovm-ha-nfs", main: "dist/examples/nfs/index.js" }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(PulumiCliMissing);
    expect(err!.message).to.match(/^the Pulumi CLI is not installed and Go is missing to build it/);
  });
});
