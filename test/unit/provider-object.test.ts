// The thin provider object: loads the ops module at call time, and keeps the serialized provider in the properties
// of a part-way failure (else the engine records state whose delete cannot load any provider).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeProvider } from "../../provider/runtime/provider-object";

describe("provider object", () => {
  let dir: string;
  let opsFile: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-provider-object-"));
    opsFile = path.join(dir, "ops.js");
    fs.writeFileSync(
      opsFile,
      `exports.create = async (inputs) => { if (inputs.fail) { throw Object.assign(new Error("half done"), { id: "r1", properties: { step: 1 }, reasons: ["crashed"] }); } return { id: "r1", outs: { ok: true } }; };
exports.update = async (id, olds, news) => { throw Object.assign(new Error("half updated"), { id, properties: { step: 2 }, reasons: ["crashed"] }); };
exports.delete = async () => { throw new Error("plain failure"); };`,
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("loads the ops module at call time and returns its answer", async () => {
    const p = makeProvider(opsFile, "no-such-package/ops", opsFile, "no-such-package/session");
    expect(await p.create!({ __provider: "blob" })).to.deep.equal({ id: "r1", outs: { ok: true } });
  });

  it("adds __provider to the properties of a part-way create or update failure", async () => {
    const p = makeProvider(opsFile, "no-such-package/ops", opsFile, "no-such-package/session");
    const created = await p.create!({ __provider: "blob", fail: true }).then(() => undefined, (e) => e);
    expect(created.message).to.equal("half done");
    expect(created.properties).to.deep.equal({ step: 1, __provider: "blob" });
    const updated = await p.update!("r1", { __provider: "old" }, { __provider: "new" }).then(() => undefined, (e) => e);
    expect(updated.properties).to.deep.equal({ step: 2, __provider: "new" });
  });

  it("passes other errors through untouched", async () => {
    const p = makeProvider(opsFile, "no-such-package/ops", opsFile, "no-such-package/session");
    const e = await p.delete!("r1", {}).then(() => undefined, (err) => err);
    expect(e.message).to.equal("plain failure");
    expect(e.properties).to.equal(undefined);
  });
});
