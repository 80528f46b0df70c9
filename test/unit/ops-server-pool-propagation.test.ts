// ServerPool propagation without servers: which of the master's repositories a member still has to make live
// (ovs-makerepo SOURCE C "DESCRIPTION"), read from the master's repository files and the member's /etc/mtab.
import { expect } from "chai";
import {
  parseRepositoryOptionsFile,
  planMemberRepositories,
  repositoryUuidOf,
  runningPoolInside,
} from "../../provider/ops/server-pool/member-repositories";

const ROOT = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
const NFS = "5D41402ABC4B2A76B9719D911017C592";
const repositories = `# Oracle VM Server repositories, maintained by ovs-makerepo (UUID SOURCE)\n${ROOT} /dev/sdb1\n${NFS} filer.example.com:/OVS\n`;
const options =
  `# Repository mount options, maintained by ovs-makerepo (UUID TYPE OPTIONS ROLE "DESCRIPTION")\n` +
  `${ROOT} ocfs2 _netdev,datavolume,nointr C "cluster root"\n` +
  `${NFS} nfs hard,proto=tcp,vers=3,timeo=600,retrans=2,nointr C "second root"\n`;
const localMtab = "/dev/mapper/VolGroup00-LogVol00 / ext3 rw 0 0\nproc /proc proc rw 0 0\n/dev/sda1 /boot ext3 rw 0 0\n";

describe("ops: repositories a member has to make live", () => {
  it("reads repositories.options: UUID, type, options, role and the quoted description", () => {
    expect(parseRepositoryOptionsFile(options)).to.deep.equal([
      { uuid: ROOT, type: "ocfs2", options: "_netdev,datavolume,nointr", role: "C", description: "cluster root" },
      { uuid: NFS, type: "nfs", options: "hard,proto=tcp,vers=3,timeo=600,retrans=2,nointr", role: "C", description: "second root" },
    ]);
  });

  it("a member with nothing mounted gets one ovs-makerepo per repository, in the master's order", () => {
    const plan = planMemberRepositories(repositories, options, localMtab);
    expect(plan.problems).to.deep.equal([]);
    expect(plan.steps).to.deep.equal([
      { uuid: ROOT, source: "/dev/sdb1", role: "C", description: "cluster root", mountPoint: `/OVS/${ROOT}` },
      { uuid: NFS, source: "filer.example.com:/OVS", role: "C", description: "second root", mountPoint: `/OVS/${NFS}` },
    ]);
  });

  it("a repository mounted at /OVS/<UUID> needs nothing (a converged member plans no write)", () => {
    const mtab = localMtab + `/dev/sdb1 /OVS/${ROOT} ocfs2 rw,_netdev,heartbeat=local 0 0\nfiler.example.com:/OVS /OVS/${NFS} nfs rw,addr=filer.example.com 0 0\n`;
    expect(planMemberRepositories(repositories, options, mtab)).to.deep.equal({ steps: [], problems: [] });
    // Only the mount point counts: the same source mounted elsewhere is not the repository.
    const elsewhere = localMtab + `/dev/sdb1 /OVS/remote ocfs2 rw 0 0\n`;
    expect(planMemberRepositories(repositories, options, elsewhere).steps.map((s) => s.uuid)).to.deep.equal([ROOT, NFS]);
  });

  it("a repository without an options line or with an undocumented role is a problem, not a guess", () => {
    const onlyRoot = options.split("\n").slice(0, 2).join("\n").replace(" C ", " S ");
    const plan = planMemberRepositories(repositories, onlyRoot, localMtab);
    expect(plan.steps).to.deep.equal([]);
    expect(plan.problems).to.deep.equal([
      `repository ${ROOT} (/dev/sdb1) has role S; only C (cluster root) can be made with ovs-makerepo`,
      `repository ${NFS} (filer.example.com:/OVS) has no line in the master's /etc/ovs/repositories.options (role unknown)`,
    ]);
  });

  it("no repositories (the master has none) plans nothing", () => {
    expect(planMemberRepositories("", "", localMtab)).to.deep.equal({ steps: [], problems: [] });
  });

  it("blkid's OCFS2 UUID compares with the repository UUID; running_pool must lie inside the cluster root", () => {
    expect(repositoryUuidOf("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")).to.equal(ROOT);
    expect(runningPoolInside(`/OVS/${ROOT}/running_pool\n`, `/OVS/${ROOT}`)).to.equal(true);
    expect(runningPoolInside(`/OVS/${ROOT}X/running_pool`, `/OVS/${ROOT}`)).to.equal(false);
    expect(runningPoolInside("/OVS/running_pool", `/OVS/${ROOT}`)).to.equal(false);
    expect(runningPoolInside("", `/OVS/${ROOT}`)).to.equal(false);
  });
});
