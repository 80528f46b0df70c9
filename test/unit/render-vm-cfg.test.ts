// vm.cfg against golden files, and the Python string escaping read back on hostile strings (no Python
// interpreter is assumed on the test machine).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { checkGuest, parseGuestInputs } from "../../provider/schemas/guest";
import { renderVmCfg, vmCfgModel, VmCfgModel } from "../../provider/render/vm-cfg";
import { pythonString } from "../../provider/render/escape";
import { packageRoot } from "../../provider/render/template";

const golden = (name: string) => fs.readFileSync(path.join(packageRoot(), "test/fixtures/golden", name), "utf8");
const pool = { name: "pool1", master: { name: "ovs1", address: "192.0.2.11" } };

/** Reads back a single-quoted Python literal as pythonString writes it. */
function readPythonString(lit: string): string {
  expect(lit.startsWith("'") && lit.endsWith("'")).to.equal(true);
  return lit.slice(1, -1).replace(/\\(.)/g, "$1");
}

describe("render: vm.cfg", () => {
  it("renders a new-image guest with a fixed MAC as the golden file", () => {
    const inputs = parseGuestInputs(checkGuest({}, { name: "vm1", pool, memory: 1024, vcpus: 2, disk: { sizeMB: 10240 }, network: { mac: "00:16:3e:12:34:56" } }).inputs as Record<string, unknown>);
    expect(renderVmCfg(vmCfgModel(inputs))).to.equal(golden("vm.cfg.vm1"));
  });

  it("renders an existing image, another bridge, no MAC, on_crash preserve", () => {
    const inputs = parseGuestInputs(
      checkGuest({}, { name: "db_2", pool, memory: 4096, vcpus: 4, disk: { path: "/OVS/seed_pool/db/System.img" }, network: { bridge: "xenbr1" }, onCrash: "preserve" }).inputs as Record<string, unknown>,
    );
    expect(renderVmCfg(vmCfgModel(inputs))).to.equal(golden("vm.cfg.db_2"));
  });

  it("a MAC kept by the provider overrides an absent input", () => {
    const inputs = parseGuestInputs(checkGuest({}, { name: "vm1", pool, memory: 512, vcpus: 1, disk: { sizeMB: 1 } }).inputs as Record<string, unknown>);
    expect(renderVmCfg(vmCfgModel(inputs, { mac: "00:16:3E:AA:BB:CC" }))).to.contain("vif = ['bridge=xenbr0,mac=00:16:3E:AA:BB:CC']");
  });

  it("escapes Python strings so that they read back unchanged", () => {
    for (const s of ["plain", "it's", "back\\slash", "\\'", "'''", "a\\", "ünï"]) {
      expect(readPythonString(pythonString(s))).to.equal(s);
    }
    expect(() => pythonString("a\nb")).to.throw(/control character/);
  });

  const base: VmCfgModel = { name: "vm1", memoryMB: 1024, vcpus: 1, imagePath: "/OVS/running_pool/vm1/System.img", bridge: "xenbr0", onCrash: "restart" };
  const refused: [string, Partial<VmCfgModel>, RegExp][] = [
    ["a name with a quote", { name: "vm1'\nimport os" }, /guest name/],
    ["an image path with a comma (would add disk fields)", { imagePath: "/OVS/a.img,hda,w" }, /image path/],
    ["a bridge with a comma", { bridge: "xenbr0,script=/tmp/x" }, /bridge/],
    ["a malformed MAC", { mac: "00:16:3E" }, /MAC/],
    ["a bad on_crash", { onCrash: "reboot" as never }, /on_crash/],
    ["fractional memory", { memoryMB: 1.5 }, /integer/],
  ];
  for (const [what, change, message] of refused) {
    it(`refuses ${what}`, () => expect(() => renderVmCfg({ ...base, ...change })).to.throw(message));
  }
});
