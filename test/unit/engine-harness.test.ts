// The engine harness, proven on a demo dynamic provider that manages local files: every operation below goes
// through the SDK's real dynamic-provider host over gRPC.
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Stack, UNKNOWN } from "../engine";
import { DemoFile } from "../fixtures/engine-demo/demo-file";
import { ok } from "../support/engine-ok";

const SIGNING_KEY = "signing-key-7f3a9c-never-in-state";
const projectDir = path.resolve(__dirname, "../../..");

interface FileSpec {
  name: string;
  content: pulumi.Input<string>;
  singleton?: boolean;
  opts?: pulumi.CustomResourceOptions;
}

describe("engine harness (demo file provider)", function () {
  this.timeout(60000);
  let dir: string;
  let stateFile: string;
  let stack: Stack;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-harness-"));
    stateFile = path.join(dir, "state", "stack.json");
    stack = new Stack({ project: "engine-demo", projectDir, stateFile });
    stack.setConfig("signingKey", SIGNING_KEY, { secret: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const files = (...specs: FileSpec[]) => () => {
    for (const s of specs) new DemoFile(s.name, { dir, name: s.name, content: s.content, singleton: s.singleton }, s.opts);
  };
  // "second" depends on "first" through an Output (its content names first's path).
  const chain = (firstContent: string) => () => {
    const first = new DemoFile("first", { dir, name: "first", content: firstContent });
    new DemoFile("second", { dir, name: "second", content: first.path.apply((p) => `see ${p}`) });
  };
  const journal = (): string[] => fs.readFileSync(path.join(dir, "journal.log"), "utf8").trim().split("\n");
  const hmac = (content: string): string => crypto.createHmac("sha256", SIGNING_KEY).update(content).digest("hex");

  it("previews an empty stack as creates, with unknowns for values not yet known, and creates nothing", async () => {
    const plan = ok(await stack.preview(chain("hello")));
    expect(plan.steps.map((s) => [s.op, s.name])).to.deep.equal([["create", "first"], ["create", "second"]]);
    expect(plan.step("second")!.inputs!.content).to.equal(UNKNOWN);
    expect(plan.calls.Create).to.equal(0);
    expect(plan.calls.Check).to.equal(2);
    expect(fs.existsSync(path.join(dir, "first.txt"))).to.equal(false);
    expect(stack.resources).to.have.length(0);
  });

  it("up creates in dependency order with outputs resolved; a second preview shows no changes", async () => {
    const up = ok(await stack.up(chain("hello")));
    expect(up.ops("create").map((s) => s.name)).to.deep.equal(["first", "second"]);
    expect(up.calls.Create).to.equal(2);
    const firstPath = path.join(dir, "first.txt");
    // The signature proves Configure delivered the secret key in plaintext to the provider.
    expect(fs.readFileSync(firstPath, "utf8")).to.equal(`hello\n${hmac("hello")}\n`);
    expect(fs.readFileSync(path.join(dir, "second.txt"), "utf8").split("\n")[0]).to.equal(`see ${firstPath}`);
    expect(stack.resource("first")!.id).to.equal(firstPath);
    expect(stack.resource("second")!.dependencies).to.include(stack.resource("first")!.urn);
    expect(JSON.parse(fs.readFileSync(stateFile, "utf8")).resources).to.have.length(2);

    const again = ok(await stack.preview(chain("hello")));
    expect(again.steps.map((s) => s.op)).to.deep.equal(["same", "same"]);
    expect(again.calls.Diff).to.equal(2);
    expect(again.calls.Create + again.calls.Update + again.calls.Delete).to.equal(0);
  });

  it("state survives in the file: a new Stack with the same secrets key reads it back, secrets included", async () => {
    const key = crypto.randomBytes(32);
    const prog = () => {
      const first = new DemoFile("first", { dir, name: "first", content: pulumi.secret("kept-secret") });
      new DemoFile("second", { dir, name: "second", content: first.path });
    };
    const writer = new Stack({ project: "engine-demo", projectDir, stateFile, secretsKey: key });
    writer.setConfig("signingKey", SIGNING_KEY, { secret: true });
    ok(await writer.up(prog));
    const reopened = new Stack({ project: "engine-demo", projectDir, stateFile, secretsKey: key });
    reopened.setConfig("signingKey", SIGNING_KEY, { secret: true });
    expect(reopened.resource("first")!.inputs.content).to.equal("kept-secret");
    const plan = ok(await reopened.preview(prog));
    expect(plan.steps.map((s) => s.op)).to.deep.equal(["same", "same"]);
  });

  it("a failing program stops the update before any delete", async () => {
    ok(await stack.up(files({ name: "survivor", content: "s" })));
    const up = await stack.up(() => {
      throw new Error("program bug");
    });
    expect(up.errors.map((e) => e.message)).to.deep.equal(["program bug"]);
    expect(up.calls.Delete).to.equal(0);
    expect(stack.resources.map((r) => r.name)).to.deep.equal(["survivor"]);
  });

  it("an in-place change is an update of the same id", async () => {
    ok(await stack.up(files({ name: "one", content: "v1" })));
    const id = stack.resource("one")!.id;
    const plan = ok(await stack.preview(files({ name: "one", content: "v2" })));
    expect(plan.step("one")!.op).to.equal("update");
    expect(plan.calls.Update).to.equal(0);
    const up = ok(await stack.up(files({ name: "one", content: "v2" })));
    expect(up.calls.Update).to.equal(1);
    expect(up.calls.Create).to.equal(0);
    expect(stack.resource("one")!.id).to.equal(id);
    expect(stack.resource("one")!.outputs.content).to.equal("v2");
    expect(fs.readFileSync(path.join(dir, "one.txt"), "utf8").split("\n")[0]).to.equal("v2");
  });

  it("a change of a replace trigger previews as replace and, by default, creates before deleting", async () => {
    // The resource name stays; the file name input (a replace trigger) changes.
    const prog = (fileName: string) => () => {
      new DemoFile("doc", { dir, name: fileName, content: "x" });
    };
    ok(await stack.up(prog("old-name")));
    const plan = ok(await stack.preview(prog("new-name")));
    expect(plan.step("doc")).to.include({ op: "replace", deleteBeforeReplace: false });
    expect(plan.step("doc")!.replaces).to.deep.equal(["name"]);
    expect(plan.calls.Create + plan.calls.Delete).to.equal(0);
    const up = ok(await stack.up(prog("new-name")));
    expect(up.calls).to.include({ Create: 1, Delete: 1 });
    expect(journal()).to.deep.equal(["create old-name", "create new-name", "delete old-name"]);
    expect(stack.resources.map((r) => r.id)).to.deep.equal([path.join(dir, "new-name.txt")]);
  });

  it("deletes before replacing when the resource option asks for it", async () => {
    const prog = (fileName: string) => () => {
      new DemoFile("doc", { dir, name: fileName, content: "x" }, { deleteBeforeReplace: true });
    };
    ok(await stack.up(prog("a1")));
    const plan = ok(await stack.preview(prog("a2")));
    expect(plan.step("doc")).to.include({ op: "replace", deleteBeforeReplace: true });
    const up = ok(await stack.up(prog("a2")));
    expect(up.steps.map((s) => s.op)).to.deep.equal(["replace"]);
    expect(journal()).to.deep.equal(["create a1", "delete a1", "create a2"]);
    expect(stack.resources.map((r) => r.id)).to.deep.equal([path.join(dir, "a2.txt")]);
  });

  it("deletes before replacing when the provider's Diff asks for it", async () => {
    const prog = (fileName: string) => () => {
      new DemoFile("s", { dir, name: fileName, content: "y", singleton: true });
    };
    ok(await stack.up(prog("s1")));
    const up = ok(await stack.up(prog("s2")));
    expect(up.step("s")).to.include({ op: "replace", deleteBeforeReplace: true });
    expect(journal()).to.deep.equal(["create s1", "delete s1", "create s2"]);
  });

  it("check failures surface in preview with property and reason, and nothing is created", async () => {
    const plan = await stack.preview(files({ name: "Bad Name", content: "x" }));
    expect(plan.errors).to.have.length(1);
    expect(plan.errors[0].failures).to.deep.equal([{ property: "name", reason: "must be lowercase letters, digits and dashes" }]);
    expect(plan.errors[0].urn).to.match(/::Bad Name$/);
    expect(plan.calls.Create).to.equal(0);
    const up = await stack.up(files({ name: "Bad Name", content: "x" }));
    expect(up.errors[0].failures![0].property).to.equal("name");
    expect(up.calls.Create).to.equal(0);
    expect(stack.resources).to.have.length(0);
  });

  it("a resource removed from the program is deleted on up", async () => {
    ok(await stack.up(files({ name: "keep", content: "k" }, { name: "drop", content: "d" })));
    const plan = ok(await stack.preview(files({ name: "keep", content: "k" })));
    expect(plan.steps.map((s) => [s.op, s.name])).to.deep.equal([["same", "keep"], ["delete", "drop"]]);
    expect(fs.existsSync(path.join(dir, "drop.txt"))).to.equal(true);
    const up = ok(await stack.up(files({ name: "keep", content: "k" })));
    expect(up.calls.Delete).to.equal(1);
    expect(fs.existsSync(path.join(dir, "drop.txt"))).to.equal(false);
    expect(stack.resources.map((r) => r.name)).to.deep.equal(["keep"]);
  });

  it("destroy deletes everything, dependents first", async () => {
    ok(await stack.up(chain("hello")));
    const d = ok(await stack.destroy());
    expect(d.steps.map((s) => [s.op, s.name])).to.deep.equal([["delete", "second"], ["delete", "first"]]);
    expect(journal().slice(-2)).to.deep.equal(["delete second", "delete first"]);
    expect(stack.resources).to.have.length(0);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".txt"))).to.deep.equal([]);
  });

  it("no secret (config given to Configure, or a secret input) appears in saved state or anything recorded", async () => {
    const secretContent = "secret-content-91b2e";
    const results = [
      ok(await stack.preview(files({ name: "s", content: pulumi.secret(secretContent) }))),
      ok(await stack.up(files({ name: "s", content: pulumi.secret(secretContent) }))),
      ok(await stack.refresh()),
    ];
    // The provider did get both in plaintext.
    expect(fs.readFileSync(path.join(dir, "s.txt"), "utf8")).to.equal(`${secretContent}\n${hmac(secretContent)}\n`);
    const saved = fs.readFileSync(stateFile, "utf8");
    expect(saved).to.not.include(SIGNING_KEY);
    expect(saved).to.not.include(secretContent);
    expect(stack.recordedText(results)).to.not.include(SIGNING_KEY);
    expect(stack.recordedText(results)).to.not.include(secretContent);
    // The output named like the secret input is secret too, and is encrypted in the file.
    expect(stack.resource("s")!.secretOutputs).to.include("content");
    expect(stack.resource("s")!.outputs.content).to.equal(secretContent);
  });

  it("a Create that fails to initialize is kept in state and resumed (Update) by the next up", async () => {
    const marker = path.join(dir, "flaky.fail-init");
    fs.writeFileSync(marker, "");
    const prog = files({ name: "flaky", content: "c" });
    const first = await stack.up(prog);
    expect(first.errors).to.have.length(1);
    expect(first.errors[0].message).to.include("initialization failed");
    const kept = stack.resource("flaky")!;
    expect(kept.id).to.equal(path.join(dir, "flaky.txt"));
    expect(kept.initErrors).to.deep.equal(["initialization marker present"]);
    expect(kept.outputs.initialized).to.equal(false);
    expect(JSON.parse(fs.readFileSync(stateFile, "utf8")).resources[0].initErrors).to.have.length(1);

    fs.rmSync(marker);
    const second = ok(await stack.up(prog));
    expect(second.step("flaky")!.op).to.equal("update");
    expect(second.calls).to.include({ Create: 0, Update: 1 });
    expect(stack.resource("flaky")!.initErrors).to.equal(undefined);
    expect(stack.resource("flaky")!.outputs.initialized).to.equal(true);
    expect(journal()).to.deep.equal(["create flaky", "update flaky"]);
  });

  it("refresh reads drift into outputs and inputs; the next preview plans to put it back", async () => {
    ok(await stack.up(files({ name: "r", content: "desired" })));
    fs.writeFileSync(path.join(dir, "r.txt"), "drifted\n");
    const refreshed = ok(await stack.refresh());
    expect(refreshed.calls.Read).to.equal(1);
    expect(refreshed.step("r")!.op).to.equal("update");
    expect(stack.resource("r")!.outputs.content).to.equal("drifted");
    expect(stack.resource("r")!.inputs.content).to.equal("drifted");
    const plan = ok(await stack.preview(files({ name: "r", content: "desired" })));
    expect(plan.step("r")!.op).to.equal("update");

    fs.rmSync(path.join(dir, "r.txt"));
    const gone = ok(await stack.refresh());
    expect(gone.step("r")!.op).to.equal("delete");
    expect(stack.resources).to.have.length(0);
  });

  it("records resource options and the serialized provider; additionalSecretOutputs are encrypted in state", async () => {
    const prog = () => {
      const a = new DemoFile("a", { dir, name: "a", content: "plain" }, { additionalSecretOutputs: ["signature"] });
      new DemoFile("b", { dir, name: "b", content: "plain" }, { dependsOn: [a], deleteBeforeReplace: true });
    };
    const up = ok(await stack.up(prog));
    const regA = up.registrations.find((r) => r.name === "a")!;
    const regB = up.registrations.find((r) => r.name === "b")!;
    expect(regA.type).to.equal("pulumi-nodejs:dynamic/engine-demo:DemoFile");
    expect(regA.additionalSecretOutputs).to.deep.equal(["signature"]);
    expect(regB.dependencies).to.deep.equal([regA.urn]);
    expect(regB.deleteBeforeReplace).to.equal(true);
    expect(stack.resource("b")!.dependencies).to.deep.equal([regA.urn]);
    const blob = stack.providerBlob("a")!;
    expect(blob).to.include("demo-file-operations");
    expect(blob).to.not.include(SIGNING_KEY);
    expect(stack.resource("a")!.secretOutputs).to.deep.equal(["signature"]);
    const saved = fs.readFileSync(stateFile, "utf8");
    expect(saved.split(hmac("plain")).length - 1).to.equal(1); // only b's signature, which is not secret
  });

  it("counts gRPC calls per operation and in total", async () => {
    ok(await stack.up(files({ name: "c", content: "1" })));
    ok(await stack.up(files({ name: "c", content: "2" })));
    expect(stack.calls).to.include({ Configure: 2, Check: 2, Diff: 1, Create: 1, Update: 1 });
    stack.resetCalls();
    expect(stack.calls.Check).to.equal(0);
  });
});
