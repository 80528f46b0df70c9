// fstab lines the provider owns, against golden files; fields are escaped as getmntent(3) reads them.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { checkSharedDisk, parseSharedDiskInputs } from "../../provider/schemas/shared-disk";
import { fstabEntryForSharedDisk, FstabEntry, NFS_MOUNT_OPTIONS, OCFS2_MOUNT_OPTIONS, renderFstab } from "../../provider/render/fstab";
import { fstabField } from "../../provider/render/escape";
import { packageRoot } from "../../provider/render/template";

const golden = (name: string) => fs.readFileSync(path.join(packageRoot(), "test/fixtures/golden", name), "utf8");
const servers = [{ name: "ovs1", address: "192.0.2.11" }];

describe("render: fstab", () => {
  it("renders an OCFS2 SAN disk by label and an NFS export, with markers, as the golden file", () => {
    const san = parseSharedDiskInputs(checkSharedDisk({}, { kind: "san", device: "/dev/sdb", servers }).inputs as Record<string, unknown>);
    const nfs = parseSharedDiskInputs(checkSharedDisk({}, { kind: "nfs", export: "fileserver.example.com:/OVS", mountPoint: "/OVS", servers }).inputs as Record<string, unknown>);
    const text = renderFstab([fstabEntryForSharedDisk(san), fstabEntryForSharedDisk(nfs)]);
    expect(text).to.equal(golden("fstab.san-and-nfs"));
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
