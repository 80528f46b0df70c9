// The agent's I/O loop with real files in a temporary cluster root and a recording stand-in for the device (a pure
// test of the agent: the lab tests run it against the lab's hardware watchdog).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseSlot, pillFile, renderPill, Slot, slotFile } from "../../ha/disk-heartbeat";
import { Agent, guestsOfXmList } from "../../watchdog/agent/agent";
import { WatchdogDevice } from "../../watchdog/agent/watchdog-device";
import { propagatedFile } from "../../watchdog/agent/propagated-files";
import { sleep, waitFor } from "../support/wait-for";

class RecordingDevice extends WatchdogDevice {
  events: { at: number; what: "open" | "feed" | "disarm" }[] = [];
  constructor() {
    super("/dev/recording");
  }
  override open(): void {
    this.events.push({ at: Date.now(), what: "open" });
  }
  override get isOpen(): boolean {
    return true;
  }
  override feed(): void {
    this.events.push({ at: Date.now(), what: "feed" });
  }
  override disarm(): void {
    this.events.push({ at: Date.now(), what: "disarm" });
  }
  feeds(): number[] {
    return this.events.filter((e) => e.what === "feed").map((e) => e.at);
  }
}

const TIMING = { intervalMs: 100, leaseMs: 300, deviceTimeoutMs: 1000 };

describe("agent loop (watchdog/agent/agent.ts) on a temporary cluster root", () => {
  let root: string;
  let xmLog: string;
  let xm: string;
  const logs: string[] = [];
  let agent: Agent | undefined;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "agent-unit-"));
    fs.mkdirSync(path.join(root, ".ovm-ha"), { recursive: true });
    fs.writeFileSync(propagatedFile(root), JSON.stringify({ schemaVersion: 1, master: "ovs1", files: {} }));
    xmLog = path.join(root, "xm.log");
    xm = path.join(root, "xm");
    // A stand-in xm: `list` shows one guest, `destroy` is recorded.
    fs.writeFileSync(xm, `#!/bin/sh\necho "$@" >> '${xmLog}'\nif [ "$1" = list ]; then printf 'Name ID Mem VCPUs State Time(s)\\nDomain-0 0 1024 4 r----- 1.0\\nvm1 3 256 1 -b---- 0.1\\n'; fi\n`, { mode: 0o755 });
    logs.length = 0;
  });
  afterEach(async () => {
    agent = undefined;
    fs.rmSync(root, { recursive: true, force: true });
  });

  const slot = (): Slot | undefined => {
    try {
      const r = parseSlot(fs.readFileSync(slotFile(root, "ovs1"), "utf8"));
      return r.ok ? r.value : undefined;
    } catch {
      return undefined;
    }
  };
  const make = (device: RecordingDevice, bootId = "b1") =>
    new Agent({ server: "ovs1", clusterRoot: root, timing: TIMING, device, bootId, xm, log: (l) => logs.push(l) });

  it("renews its slot (seq grows), says ready after seed 9.4, feeds; a clean stop writes stopped then disarms", async () => {
    const dev = new RecordingDevice();
    agent = make(dev);
    await agent.start();
    const s = await waitFor("ready with seq >= 3", () => { const x = slot(); return x && x.state === "ready" && x.seq >= 3 ? x : undefined; }, 5000, 20);
    expect(s.bootId).to.equal("b1");
    expect(dev.feeds().length).to.be.greaterThan(1);
    expect(await agent.stop()).to.equal(true);
    expect(slot()!.state).to.equal("stopped");
    expect(dev.events.at(-1)!.what).to.equal("disarm");
  });

  it("a pill aimed at this boot: feeding stops, the guests are destroyed, the last slot says self-fencing; a stop is then refused", async () => {
    const dev = new RecordingDevice();
    agent = make(dev);
    await agent.start();
    await waitFor("first slot", () => slot(), 5000, 20);
    const written = Date.now();
    fs.writeFileSync(pillFile(root, "ovs1"), renderPill({ schemaVersion: 1, server: "ovs1", bootId: "b1", writer: "test", reason: "fence it", writtenAt: written }));
    const last = await waitFor("self-fencing slot", () => { const x = slot(); return x?.state === "self-fencing" ? x : undefined; }, 5000, 20);
    expect(last.reason).to.match(/poison pill from test \(fence it\)/);
    const feedsAfter = dev.feeds().filter((t) => t > written + TIMING.intervalMs + 50);
    expect(feedsAfter, "feeds more than an interval after the pill").to.deep.equal([]);
    expect(fs.readFileSync(xmLog, "utf8")).to.match(/^list\ndestroy vm1\n$/);
    expect(await agent.stop()).to.equal(false);
    expect(dev.events.some((e) => e.what === "disarm")).to.equal(false);
  });

  it("storage gone (its slots directory removed): the lease runs out, feeding stops within it", async () => {
    const dev = new RecordingDevice();
    agent = make(dev);
    await agent.start();
    await waitFor("first slot", () => slot(), 5000, 20);
    const lost = Date.now();
    fs.rmSync(path.join(root, ".ovm-ha"), { recursive: true, force: true });
    await waitFor("the self-fencing log line", () => logs.find((l) => /SELF-FENCING: lease lost/.test(l)), 5000, 20);
    const lastFeed = dev.feeds().at(-1)!;
    expect(lastFeed - lost).to.be.at.most(TIMING.leaseMs + 50);
    await sleep(3 * TIMING.intervalMs);
    expect(dev.feeds().at(-1)).to.equal(lastFeed);
  });

  it("at start: a pill aimed at an earlier boot is removed; one aimed at any boot is obeyed before any feed", async () => {
    fs.mkdirSync(path.join(root, ".ovm-ha", "slots"), { recursive: true });
    fs.writeFileSync(pillFile(root, "ovs1"), renderPill({ schemaVersion: 1, server: "ovs1", bootId: "b0", writer: "test", reason: "old", writtenAt: 1 }));
    const dev = new RecordingDevice();
    agent = make(dev);
    await agent.start();
    expect(fs.existsSync(pillFile(root, "ovs1"))).to.equal(false);
    await waitFor("ready", () => slot()?.state === "ready", 5000, 20);
    await agent.stop();

    fs.writeFileSync(pillFile(root, "ovs1"), renderPill({ schemaVersion: 1, server: "ovs1", bootId: null, writer: "test", reason: "any boot", writtenAt: 1 }));
    const dev2 = new RecordingDevice();
    agent = make(dev2, "b2");
    await agent.start();
    await waitFor("self-fencing", () => slot()?.state === "self-fencing", 5000, 20);
    expect(dev2.events.map((e) => e.what)).to.deep.equal(["open"]);
  });

  it("a restarted agent in the same boot carries seq on", async () => {
    const dev = new RecordingDevice();
    agent = make(dev);
    await agent.start();
    await waitFor("seq >= 2", () => (slot()?.seq ?? 0) >= 2, 5000, 20);
    await agent.stop();
    const stoppedSeq = slot()!.seq;
    agent = make(new RecordingDevice());
    await agent.start();
    await waitFor("a new write", () => (slot()?.seq ?? 0) > stoppedSeq && slot()!.state !== "stopped", 5000, 20);
    await agent.stop();
  });

  it("xm list parsing leaves Domain-0 out", () => {
    expect(guestsOfXmList("Name ID Mem VCPUs State Time(s)\nDomain-0 0 1024 4 r----- 1.0\na 1 256 1 -b---- 0.1\nb 2 256 1 -b---- 0.1\n")).to.deep.equal(["a", "b"]);
  });
});
