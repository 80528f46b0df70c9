import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import {
  attachDisk,
  detachDisk,
  diskName,
  formatPartitionRow,
  nextDiskName,
  parseSfdiskJson,
  readDisks,
  readLoops,
  releasePartitionLoops,
  renderPartitions,
  rescanLun,
  resolveDevice,
} from "../../lab/devices";
import { layout } from "../../lab/layout";

describe("lab device model: pure parts", () => {
  it("formats rows like the kernel's %4d  %7d %10llu %s", () => {
    expect(formatPartitionRow({ major: 8, minor: 16, blocks: 1048576, name: "sdb" })).to.equal("   8       16    1048576 sdb");
    expect(formatPartitionRow({ major: 254, minor: 0, blocks: 268435456, name: "vda" })).to.equal(" 254        0  268435456 vda");
  });

  it("renders the header, a blank line, the seed's local rows, then lab disks", () => {
    const text = renderPartitions([{ major: 7, minor: 3, blocks: 2097152, name: "sdb" }]);
    expect(text).to.equal(
      "major minor  #blocks  name\n\n" +
        "   8        0   71687372 sda\n" +
        "   8        1     104391 sda1\n" +
        "   8        2   71577607 sda2\n" +
        " 253        0   70516736 dm-0\n" +
        " 253        1    1048576 dm-1\n" +
        "   7        3    2097152 sdb\n",
    );
  });

  it("names disks like sd does and skips used names and sda", () => {
    expect([0, 1, 25, 26, 27, 51, 52].map(diskName)).to.deep.equal(["sda", "sdb", "sdz", "sdaa", "sdab", "sdaz", "sdba"]);
    expect(nextDiskName([])).to.equal("sdb");
    expect(nextDiskName(["sdb", "sdc"])).to.equal("sdd");
    expect(nextDiskName(["sdc"])).to.equal("sdb");
  });

  it("reads partitions from sfdisk -J output", () => {
    const json = JSON.stringify({
      partitiontable: {
        label: "dos", device: "/dev/loop0", unit: "sectors", sectorsize: 512,
        partitions: [
          { node: "/dev/loop0p2", start: 100000, size: 2000, type: "83" },
          { node: "/dev/loop0p1", start: 2048, size: 97952, type: "83" },
        ],
      },
    });
    expect(parseSfdiskJson(json)).to.deep.equal([
      { number: 1, startSector: 2048, sectors: 97952 },
      { number: 2, startSector: 100000, sectors: 2000 },
    ]);
    expect(parseSfdiskJson("")).to.deep.equal([]);
  });
});

describe("lab device model: loops, nodes and partitions files (real loop devices)", function () {
  let dir: string;
  let image: string;
  let wholeLoop: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-devices-"));
    fs.mkdirSync(path.join(dir, "storage", "luns"), { recursive: true });
    for (const s of ["ovs1", "ovs2"]) {
      fs.mkdirSync(layout.serverDev(dir, s), { recursive: true });
      fs.writeFileSync(layout.serverDisks(dir, s), "[]\n");
      fs.writeFileSync(layout.serverPartitions(dir, s), "");
    }
    image = path.join(dir, "storage", "luns", "lun1.img");
    fs.writeFileSync(image, "");
    fs.truncateSync(image, 32 * 1024 * 1024);
    wholeLoop = execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim();
    const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(wholeLoop)}/dev`, "utf8").trim().split(":").map(Number);
    fs.writeFileSync(layout.loopsJson(dir), JSON.stringify({ lun1: { loop: wholeLoop, major, minor, partitions: [] } }));
  });

  after(async () => {
    await releasePartitionLoops(dir);
    execFileSync("losetup", ["-d", wholeLoop]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("attaches, partitions, rescans for every server, and detaches", async () => {
    expect(await attachDisk(dir, "ovs1", "lun1")).to.equal("sdb");
    expect(await attachDisk(dir, "ovs1", "lun1")).to.equal("sdb"); // idempotent
    expect(await attachDisk(dir, "ovs2", "lun1", "sdc")).to.equal("sdc");
    const rec = readLoops(dir).lun1;
    expect(fs.statSync(path.join(layout.serverDev(dir, "ovs1"), "sdb")).isBlockDevice()).to.equal(true);
    expect(fs.readFileSync(layout.serverPartitions(dir, "ovs1"), "utf8")).to.contain(
      formatPartitionRow({ major: rec.major, minor: rec.minor, blocks: 32768, name: "sdb" }),
    );

    execFileSync("sfdisk", [wholeLoop], { input: "label: dos\n2048,20480\n,\n", stdio: ["pipe", "ignore", "ignore"] });
    await rescanLun(dir, "lun1");
    const parts = readLoops(dir).lun1.partitions;
    expect(parts.map((p) => [p.number, p.startSector, p.sectors])).to.deep.equal([
      [1, 2048, 20480],
      [2, 22528, 65536 - 22528],
    ]);
    const p1 = parts[0];
    expect(fs.readFileSync(layout.serverPartitions(dir, "ovs2"), "utf8")).to.contain(
      formatPartitionRow({ major: p1.major, minor: p1.minor, blocks: 10240, name: "sdc1" }),
    );
    expect(fs.existsSync(path.join(layout.serverDev(dir, "ovs1"), "sdb2"))).to.equal(true);
    expect(resolveDevice(dir, "ovs2", "/dev/sdc1")).to.deep.equal({ disk: "sdc", lun: "lun1", partition: 1 });

    // Rescanning an unchanged table keeps the same loop devices.
    await rescanLun(dir, "lun1");
    expect(readLoops(dir).lun1.partitions.map((p) => p.loop)).to.deep.equal(parts.map((p) => p.loop));

    // Dropping partition 2 removes its loop and nodes everywhere.
    execFileSync("sfdisk", [wholeLoop], { input: "label: dos\n2048,20480\n", stdio: ["pipe", "ignore", "ignore"] });
    await rescanLun(dir, "lun1");
    expect(readLoops(dir).lun1.partitions.map((p) => p.number)).to.deep.equal([1]);
    expect(fs.existsSync(path.join(layout.serverDev(dir, "ovs1"), "sdb2"))).to.equal(false);
    expect(fs.existsSync(`/sys/block/${path.basename(parts[1].loop)}/loop`)).to.equal(false);

    await detachDisk(dir, "ovs1", "lun1");
    expect(readDisks(dir, "ovs1")).to.deep.equal([]);
    expect(fs.existsSync(path.join(layout.serverDev(dir, "ovs1"), "sdb"))).to.equal(false);
    expect(fs.readFileSync(layout.serverPartitions(dir, "ovs1"), "utf8")).to.not.contain("sdb");
  });
});
