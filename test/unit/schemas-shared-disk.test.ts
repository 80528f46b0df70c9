// SharedDisk check: valid inputs get the seed's defaults; each bad input gives a failure on its property that
// names the value and what is allowed; unknown placeholders pass (preview).
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkSharedDisk, parseSharedDiskInputs } from "../../provider/schemas/shared-disk";

const server = (name: string, address: string, extra: object = {}) => ({ name, address, ...extra });
const iscsi = (over: Record<string, unknown> = {}) => ({
  kind: "iscsi",
  portal: { address: "10.1.1.1" },
  targets: ["iqn.1992-04.com.emc:cx.apm00070202838.a2"],
  servers: [server("ovs1", "192.0.2.11"), server("ovs2", "192.0.2.12")],
  ...over,
});

describe("schemas: SharedDisk", () => {
  it("fills the seed chapter's mkfs.ocfs2 defaults and /OVS/remote", () => {
    const r = checkSharedDisk({}, { ...iscsi(), __provider: "serialized" });
    expect(r.failures).to.deep.equal([]);
    expect(r.inputs).to.deep.include({ mountPoint: "/OVS/remote", partition: true, overwrite: false });
    expect((r.inputs as any).format).to.deep.equal({ label: "ovsroot", blockSize: 4096, clusterSize: 4096, journalSize: 64 * 1024 * 1024, nodeSlots: 16 });
    expect((r.inputs as any).portal.port).to.equal(3260);
    expect((r.inputs as any).servers[0].port).to.equal(22);
    expect(r.inputs).to.not.have.property("__provider");
  });

  it("accepts sizes as mkfs writes them and normalizes them to bytes", () => {
    const r = checkSharedDisk({}, iscsi({ format: { blockSize: "512", clusterSize: "1M", journalSize: "4M", nodeSlots: 255, label: "x".repeat(63) } }));
    expect(r.failures).to.deep.equal([]);
    expect((r.inputs as any).format).to.include({ blockSize: 512, clusterSize: 1048576, journalSize: 4194304 });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["portal address", iscsi({ portal: { address: "10.1.1.300" } }), "portal.address", /IPv4 address.*got "10\.1\.1\.300"/],
    ["portal port", iscsi({ portal: { address: "10.1.1.1", port: 0 } }), "portal.port", /integer 1\.\.65535; got 0/],
    ["server port", iscsi({ servers: [server("ovs1", "192.0.2.11", { port: 70000 })] }), "servers[0].port", /1\.\.65535; got 70000/],
    ["server name with a dot", iscsi({ servers: [server("ovs1.example.com", "192.0.2.11")] }), "servers[0].name", /host name label.*no dots.*got "ovs1\.example\.com"/],
    ["server name injection", iscsi({ servers: [server("a;reboot", "192.0.2.11")] }), "servers[0].name", /host name label.*got "a;reboot"/],
    ["duplicate server name", iscsi({ servers: [server("ovs1", "192.0.2.11"), server("OVS1", "192.0.2.12")] }), "servers[1].name", /unique.*server \[0\]; got "OVS1"/],
    ["duplicate address", iscsi({ servers: [server("ovs1", "192.0.2.11"), server("ovs2", "192.0.2.11")] }), "servers[1].address", /unique.*got "192\.0\.2\.11"/],
    ["no servers", iscsi({ servers: [] }), "servers", /at least one server; got \[\]/],
    ["host key", iscsi({ servers: [server("ovs1", "192.0.2.11", { hostKeyFingerprint: "MD5:aa" })] }), "servers[0].hostKeyFingerprint", /SHA256:<43 base64.*got "MD5:aa"/],
    ["target name", iscsi({ targets: ["IQN.1992-04.com.emc:a"] }), "targets[0]", /iqn\.YYYY-MM.*got "IQN\.1992-04\.com\.emc:a"/],
    ["duplicate target", iscsi({ targets: ["iqn.2001-04.com.example:a", "iqn.2001-04.com.example:a"] }), "targets[1]", /unique/],
    ["no target", iscsi({ targets: [] }), "targets", /at least one iSCSI target/],
    ["block size not a power of two", iscsi({ format: { blockSize: "3K" } }), "format.blockSize", /512, 1K, 2K or 4K.*got "3K"/],
    ["block size too large", iscsi({ format: { blockSize: 8192 } }), "format.blockSize", /got 8192/],
    ["cluster size too small", iscsi({ format: { clusterSize: "2K" } }), "format.clusterSize", /power of two from 4K to 1M; got "2K"/],
    ["cluster size too large", iscsi({ format: { clusterSize: "2M" } }), "format.clusterSize", /4K to 1M; got "2M"/],
    ["journal too small", iscsi({ format: { journalSize: "1M" } }), "format.journalSize", /at least 4M.*got "1M"/],
    ["node slots 0", iscsi({ format: { nodeSlots: 0 } }), "format.nodeSlots", /1\.\.255; got 0/],
    ["node slots 256", iscsi({ format: { nodeSlots: 256 } }), "format.nodeSlots", /1\.\.255; got 256/],
    ["fewer slots than servers", iscsi({ format: { nodeSlots: 1 } }), "format.nodeSlots", /at least the number of servers.*\(2\); got 1/],
    ["label of 64 bytes", iscsi({ format: { label: "x".repeat(64) } }), "format.label", /1\.\.63 bytes/],
    ["label with a space", iscsi({ format: { label: "my label" } }), "format.label", /\[A-Za-z0-9\._-\].*got "my label"/],
    ["mount point relative", iscsi({ mountPoint: "OVS/remote" }), "mountPoint", /absolute path.*got "OVS\/remote"/],
    ["mount point with ..", iscsi({ mountPoint: "/OVS/../etc" }), "mountPoint", /no '\.' or '\.\.' segment/],
    ["overwrite not boolean", iscsi({ overwrite: "yes" }), "overwrite", /true or false; got "yes"/],
    ["adoptVolume not a UUID", iscsi({ adoptVolume: "ovsroot" }), "adoptVolume", /OCFS2 volume UUID: 32 hex digits.*got "ovsroot"/],
    ["adoptVolume with 31 digits", iscsi({ adoptVolume: "D9C10F2575FA4B71B3BCC2037EB7D87" }), "adoptVolume", /32 hex digits/],
    ["adoptVolume on nfs", { kind: "nfs", export: "fs:/OVS", adoptVolume: "D9C10F2575FA4B71B3BCC2037EB7D87E", servers: [server("ovs1", "192.0.2.11")] }, "adoptVolume", /not a known property/],
    ["unknown property", iscsi({ mountpoint: "/OVS" }), "mountpoint", /not a known property; got "\/OVS"/],
    ["kind", { kind: "fc" }, "kind", /iscsi, san, nfs; got "fc"/],
    ["san device outside /dev", { kind: "san", device: "/tmp/disk", servers: [server("ovs1", "192.0.2.11")] }, "device", /under \/dev\/.*got "\/tmp\/disk"/],
    ["nfs export without path", { kind: "nfs", export: "fileserver.example.com", servers: [server("ovs1", "192.0.2.11")] }, "export", /host:\/path.*got "fileserver\.example\.com"/],
    ["nfs with format", { kind: "nfs", export: "fs:/OVS", format: {}, servers: [server("ovs1", "192.0.2.11")] }, "format", /not a known property/],
  ];
  for (const [what, input, property, reason] of bad) {
    it(`refuses ${what}`, () => {
      const r = checkSharedDisk({}, input);
      const f = r.failures.find((x) => x.property === property);
      expect(f, `failures were ${JSON.stringify(r.failures)}`).to.not.equal(undefined);
      expect(f!.reason).to.match(reason);
    });
  }

  it("accepts adoptVolume as mounted.ocfs2 prints it or as blkid does", () => {
    for (const u of ["D9C10F2575FA4B71B3BCC2037EB7D87E", "d9c10f25-75fa-4b71-b3bc-c2037eb7d87e"]) {
      const r = checkSharedDisk({}, iscsi({ adoptVolume: u }));
      expect(r.failures).to.deep.equal([]);
      expect((r.inputs as Record<string, unknown>).adoptVolume).to.equal(u);
    }
  });

  it("reports every failure at once", () => {
    const r = checkSharedDisk({}, iscsi({ portal: { address: "x", port: 0 }, format: { nodeSlots: 0, blockSize: 3 }, servers: [server("ovs1", "1.2.3.4"), server("ovs1", "1.2.3.5")] }));
    expect(r.failures.map((f) => f.property)).to.have.members(["portal.address", "portal.port", "format.nodeSlots", "format.blockSize", "servers[1].name"]);
  });

  it("accepts the unknown placeholder anywhere, numbers included (preview)", () => {
    for (const input of [
      iscsi({ portal: UNKNOWN, targets: UNKNOWN, servers: UNKNOWN, mountPoint: UNKNOWN, overwrite: UNKNOWN }),
      iscsi({ portal: { address: UNKNOWN, port: UNKNOWN }, targets: [UNKNOWN], servers: [{ name: UNKNOWN, address: UNKNOWN, port: UNKNOWN }] }),
      iscsi({ format: { blockSize: UNKNOWN, clusterSize: UNKNOWN, journalSize: UNKNOWN, nodeSlots: UNKNOWN, label: UNKNOWN } }),
      { kind: "san", device: UNKNOWN, servers: [server("ovs1", "192.0.2.11")] },
      { kind: "nfs", export: UNKNOWN, servers: UNKNOWN },
      { kind: UNKNOWN, whatever: 1 },
    ]) {
      const r = checkSharedDisk({}, input);
      expect(r.failures, JSON.stringify(input)).to.deep.equal([]);
    }
  });

  it("still reports real failures next to unknowns", () => {
    const r = checkSharedDisk({}, iscsi({ portal: { address: UNKNOWN, port: 99999 } }));
    expect(r.failures).to.have.length(1);
    expect(r.failures[0].property).to.equal("portal.port");
  });

  it("parseSharedDiskInputs refuses unknowns and invalid inputs with a ValidationError", () => {
    expect(() => parseSharedDiskInputs(iscsi({ portal: { address: UNKNOWN } }))).to.throw(/portal\.address: is still unknown/);
    expect(() => parseSharedDiskInputs(iscsi({ format: { nodeSlots: 0 } }))).to.throw(/format\.nodeSlots/);
    expect(() => parseSharedDiskInputs({ kind: "fc" })).to.throw(/kind: must be one of iscsi, san, nfs/);
    expect(parseSharedDiskInputs({ kind: "nfs", export: "fileserver.example.com:/OVS", servers: [server("ovs1", "192.0.2.11")] })).to.include({ mountPoint: "/OVS/remote" });
  });
});
