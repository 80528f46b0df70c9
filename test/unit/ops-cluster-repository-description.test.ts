// The cluster root's description where ovs-makerepo keeps it (repositories.options), as the Cluster reads it, and
// the lab's ovs-makerepo describing a registered repository again in place (the line keeps its position, so a
// member's copy of the master's files stays byte for byte the master's after both are described again).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPOSITORIES_FILE, REPOSITORIES_OPTIONS_FILE, registrationOf } from "../../provider/ops/cluster/repository-description";
import { registerRepository } from "../../lab/storage/repositories";

const A = "5E7A0C1F9B2D4E6F8A0B1C2D3E4F5A6B";
const B = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";

describe("ops: the cluster root's description", () => {
  const files = (repos: string, options: string | undefined) => new Map([[REPOSITORIES_FILE, repos], [REPOSITORIES_OPTIONS_FILE, options]]);
  const repos = `# header\n${A} /dev/sdb1\n${B} nfs.example:/OVS\n`;

  it("reads the registration of a source, or of a UUID, with the description of its options line", () => {
    const opts = `# header\n${A} ocfs2 _netdev,datavolume,nointr C "root of pool1"\n${B} nfs hard C "cluster root"\n`;
    expect(registrationOf(files(repos, opts), { source: "/dev/sdb1" })).to.deep.equal({ uuid: A, source: "/dev/sdb1", description: "root of pool1" });
    expect(registrationOf(files(repos, opts), { uuid: B })).to.deep.equal({ uuid: B, source: "nfs.example:/OVS", description: "cluster root" });
    expect(registrationOf(files(repos, opts), { source: "/dev/sdc1" })).to.equal(undefined);
  });

  it("a registration without an options line has no description (never a made-up one)", () => {
    expect(registrationOf(files(repos, undefined), { source: "/dev/sdb1" })).to.deep.equal({ uuid: A, source: "/dev/sdb1", description: undefined });
  });

  it("the lab's ovs-makerepo describes a registered repository again in place", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ovm-ha-repos-"));
    try {
      const opts = (uuid: string, description: string) => ({ uuid, type: "ocfs2", options: "_netdev", role: "C", description });
      registerRepository({ root }, { uuid: A, source: "/dev/sdb1" }, opts(A, "cluster root"));
      registerRepository({ root }, { uuid: B, source: "/dev/sdc1" }, opts(B, "second"));
      registerRepository({ root }, { uuid: A, source: "/dev/sdb1" }, opts(A, "root of pool1"));
      const read = (f: string) => fs.readFileSync(path.join(root, f), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
      expect(read(REPOSITORIES_FILE)).to.deep.equal([`${A} /dev/sdb1`, `${B} /dev/sdc1`]);
      expect(read(REPOSITORIES_OPTIONS_FILE)).to.deep.equal([`${A} ocfs2 _netdev C "root of pool1"`, `${B} ocfs2 _netdev C "second"`]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
