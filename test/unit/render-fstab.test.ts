// fstab lines the provider owns, against golden files; fields are escaped as getmntent(3) reads them.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { checkSharedDisk, parseSharedDiskInputs } from "../../provider/schemas/shared-disk";
import { blkidOcfs2Uuid, fstabEntryForSharedDisk, FstabEntry, NFS_MOUNT_OPTIONS, OCFS2_MOUNT_OPTIONS, ocfs2FstabSource, renderFstab } from "../../provider/render/fstab";
import { fstabField } from "../../provider/render/escape";
import { packageRoot } from "../../provider/render/template";

const golden = (name: string) => fs.readFileSync(path.join(packageRoot(), "test/fixtures/golden", name), "utf8");
const servers = [{ name: "ovs1", address: "192.0.2.11" }];

describe("render: fstab", () => {
  const san = () => parseSharedDiskInputs(checkSharedDisk({}, { kind: "san", device: "/dev/sdb", servers }).inputs as Record<string, unknown>);

  it("renders an OCFS2 SAN disk by volume UUID and an NFS export, with markers, as the golden file", () => {
    const nfs = parseSharedDiskInputs(checkSharedDisk({}, { kind: "nfs", export: "fileserver.example.com:/OVS", mountPoint: "/OVS", servers }).inputs as Record<string, unknown>);
    // The UUID as state keeps it (mounted.ocfs2 -d's 32 upper-case hex digits); the line has blkid's form.
    const text = renderFstab([fstabEntryForSharedDisk(san(), "95A93FA720F546C0804290BBA4641ADB"), fstabEntryForSharedDisk(nfs)]);
    expect(text).to.equal(golden("fstab.san-and-nfs"));
    expect(text.split("\n")[1]).to.equal("UUID=95a93fa7-20f5-46c0-8042-90bba4641adb /OVS/remote ocfs2 _netdev,datavolume,nointr 0 0");
  });

  it("an OCFS2 line needs the volume UUID (never a label: labels are not unique)", () => {
    expect(() => fstabEntryForSharedDisk(san())).to.throw(/no UUID yet/);
    expect(fstabEntryForSharedDisk(san(), "95a93fa7-20f5-46c0-8042-90bba4641adb").device).to.equal("UUID=95a93fa7-20f5-46c0-8042-90bba4641adb");
  });

  it("converts an OCFS2 UUID to blkid's dashed lower-case form, from either form", () => {
    expect(blkidOcfs2Uuid("0A1B2C3D4E5F60718293A4B5C6D7E8F9")).to.equal("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    expect(blkidOcfs2Uuid("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")).to.equal("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    expect(ocfs2FstabSource("0A1B2C3D4E5F60718293A4B5C6D7E8F9")).to.equal("UUID=0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    expect(() => blkidOcfs2Uuid("0A1B2C3D4E5F60718293A4B5C6D7E8")).to.throw(/32 hex digits/);
    expect(() => blkidOcfs2Uuid("0A1B2C3D4E5F60718293A4B5C6D7E8FG")).to.throw(/32 hex digits/);
  });

  it("renders the seed chapter's device line", () => {
    const text = renderFstab([{ device: "/dev/sdb1", mountPoint: "/OVS/remote", type: "ocfs2", options: OCFS2_MOUNT_OPTIONS }]);
    expect(text.split("\n")[1]).to.equal("/dev/sdb1 /OVS/remote ocfs2 _netdev,datavolume,nointr 0 0");
  });

  it("uses hard NFS mounts over TCP", () => {
    expect(NFS_MOUNT_OPTIONS).to.include.members(["hard", "tcp", "_netdev"]);
    expect(NFS_MOUNT_OPTIONS).to.not.include("soft");
  });

  it("escapes whitespace and backslashes in fields", () => {
    expect(fstabField("/mnt/a b\tc\\d")).to.equal("/mnt/a\\040b\\011c\\134d");
    expect(() => fstabField("a\nb")).to.throw(/line break/);
    expect(() => fstabField("")).to.throw(/non-empty/);
  });

  const ok: FstabEntry = { device: "/dev/sdb1", mountPoint: "/OVS/remote", type: "ocfs2", options: OCFS2_MOUNT_OPTIONS };
  const refused: [string, Partial<FstabEntry>, RegExp][] = [
    ["OCFS2 without _netdev", { options: ["defaults"] }, /_netdev/],
    ["a device with a space", { device: "/dev/sdb1 /etc ext4" }, /device/],
    ["a mount point with a newline", { mountPoint: "/OVS\n/dev/sda1" }, /mount point/],
    ["an option with a comma inside", { options: ["_netdev", "a,b"] }, /options/],
  ];
  for (const [what, change, message] of refused) {
    it(`refuses ${what}`, () => expect(() => renderFstab([{ ...ok, ...change }])).to.throw(message));
  }
  it("refuses one mount point twice", () => expect(() => renderFstab([ok, ok])).to.throw(/mounted twice/));
});
