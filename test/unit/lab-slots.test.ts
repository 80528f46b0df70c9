// Lab slots (lab/slots.ts) taken by labs starting at the same moment in separate processes, as parallel test files
// do: each gets a slot of its own, stale slots (their lab dir gone) included.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { allocateSlot, holdSlot, releaseSlot } from "../../lab/slots";

const SLOTS_JS = path.resolve(__dirname, "../../lab/slots.js");

/** A process that says it is ready, spins until `go` exists (all start within microseconds), takes a slot, prints it. */
const TAKER = `
const fs = require("fs");
const [slotsJs, slotsDir, labDir, ready, go] = process.argv.slice(1);
const { allocateSlot } = require(slotsJs);
fs.writeFileSync(ready, "");
while (!fs.existsSync(go)) {}
process.stdout.write(String(allocateSlot(labDir, slotsDir)));
`;

function take(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", TAKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`slot taker exited ${code}: ${err.trim()}`))));
  });
}

describe("lab slots", function () {
  this.timeout(60000);
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-slots-"));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("a lab takes the lowest free slot and gives it back; a slot whose lab dir is gone is taken over", () => {
    const slots = path.join(tmp, "slots");
    const [a, b, c] = ["a", "b", "c"].map((n) => path.join(tmp, n));
    for (const d of [a, b, c]) fs.mkdirSync(d);
    expect(allocateSlot(a, slots)).to.equal(1);
    expect(fs.readFileSync(path.join(a, "slot"), "utf8")).to.equal("1");
    expect(allocateSlot(b, slots)).to.equal(2);
    releaseSlot(1, a, slots);
    expect(fs.existsSync(path.join(a, "slot"))).to.equal(false);
    fs.rmSync(b, { recursive: true }); // b's lab dir is gone: slot 2 is stale
    expect(allocateSlot(a, slots)).to.equal(1);
    expect(allocateSlot(c, slots), "the stale slot 2 taken over").to.equal(2);
    expect(fs.readFileSync(path.join(slots, "slot-2", "owner"), "utf8")).to.equal(c);
  });

  it("a slot handed to a holder stays taken when its lab gives it back, until the holder does", () => {
    const slots = path.join(tmp, "slots");
    const [lab, holder, other] = ["lab", "holder", "other"].map((n) => path.join(tmp, n));
    for (const d of [lab, holder, other]) fs.mkdirSync(d);
    expect(allocateSlot(lab, slots)).to.equal(1);
    expect(() => holdSlot(1, other, holder, slots), "only the lab holding it can hand it on").to.throw(/not held by/);
    holdSlot(1, lab, holder, slots);
    releaseSlot(1, lab, slots);
    expect(fs.existsSync(path.join(lab, "slot"))).to.equal(false);
    expect(allocateSlot(other, slots), "slot 1 is still held").to.equal(2);
    releaseSlot(1, holder, slots);
    fs.rmSync(path.join(other, "slot"));
    expect(allocateSlot(lab, slots)).to.equal(1);
  });

  it("six labs starting at once over stale slots each get a slot of their own (eight rounds)", async () => {
    for (let round = 0; round < 8; round++) {
      const dir = path.join(tmp, `round${round}`);
      const slots = path.join(dir, "slots");
      // Slots 1-8 left by labs whose dirs are gone (a run that was killed): every taker finds them stale at once.
      for (let s = 1; s <= 8; s++) {
        fs.mkdirSync(path.join(slots, `slot-${s}`), { recursive: true });
        fs.writeFileSync(path.join(slots, `slot-${s}`, "owner"), path.join(dir, `gone${s}`));
      }
      const go = path.join(dir, "go");
      const labs = [1, 2, 3, 4, 5, 6].map((i) => path.join(dir, `lab${i}`));
      for (const l of labs) fs.mkdirSync(l);
      const taken = labs.map((l, i) => take([SLOTS_JS, slots, l, path.join(dir, `ready${i}`), go]));
      const ready = () => labs.every((_, i) => fs.existsSync(path.join(dir, `ready${i}`)));
      while (!ready()) await new Promise((r) => setTimeout(r, 20));
      fs.writeFileSync(go, "");
      const got = (await Promise.all(taken)).map(Number);
      expect(new Set(got).size, `round ${round}: slots ${got.join(", ")}`).to.equal(labs.length);
      // What the slots say agrees: each taken slot names the lab that holds it, and that lab names the slot.
      labs.forEach((l, i) => {
        expect(fs.readFileSync(path.join(slots, `slot-${got[i]}`, "owner"), "utf8")).to.equal(l);
        expect(fs.readFileSync(path.join(l, "slot"), "utf8")).to.equal(String(got[i]));
      });
    }
  });
});
