import { expect } from "chai";
import {
  CommandArgumentError, o2cbClusterStatus, o2cbListCluster, ovsClusterCheck, ovsClusterConfigure, ovsMakerepo,
  serviceO2cb, xmCreate, xmDestroy, xmInfo, xmList, xmMigrate, xmShutdown, O2cbServiceAction,
} from "../../provider/commands";

function rejects(fn: () => unknown, property: string): void {
  expect(fn).to.throw(CommandArgumentError, property);
  try {
    fn();
  } catch (e) {
    expect((e as CommandArgumentError).property).to.equal(property);
  }
}

describe("commands: xm", () => {
  it("builds create, migrate, shutdown, destroy, list and info", () => {
    expect(xmCreate("/OVS/running_pool/vm1/vm.cfg")).to.deep.equal(["xm", "create", "/OVS/running_pool/vm1/vm.cfg"]);
    expect(xmMigrate("vm1", "ovs2.example.com", true)).to.deep.equal(["xm", "migrate", "-l", "vm1", "ovs2.example.com"]);
    expect(xmMigrate("vm1", "192.0.2.12", false)).to.deep.equal(["xm", "migrate", "vm1", "192.0.2.12"]);
    expect(xmShutdown("vm1", true)).to.deep.equal(["xm", "shutdown", "-w", "vm1"]);
    expect(xmShutdown("vm1", false)).to.deep.equal(["xm", "shutdown", "vm1"]);
    expect(xmDestroy("7")).to.deep.equal(["xm", "destroy", "7"]);
    expect(xmList()).to.deep.equal(["xm", "list"]);
    expect(xmInfo()).to.deep.equal(["xm", "info"]);
  });

  it("rejects names and hosts that could become options or are malformed", () => {
    rejects(() => xmDestroy("-a"), "domain");
    rejects(() => xmShutdown("vm 1", true), "domain");
    rejects(() => xmMigrate("vm1", "-l", true), "host");
    rejects(() => xmMigrate("vm1", "bad_host!", true), "host");
    rejects(() => xmCreate("vm.cfg"), "cfgPath");
    rejects(() => xmCreate("/OVS/../etc/x"), "cfgPath");
  });
});

describe("commands: o2cb and ovs scripts", () => {
  it("builds service o2cb and o2cb commands", () => {
    expect(serviceO2cb("status")).to.deep.equal(["service", "o2cb", "status"]);
    expect(serviceO2cb("online", "ocfs2")).to.deep.equal(["service", "o2cb", "online", "ocfs2"]);
    expect(o2cbListCluster("ocfs2", "/etc/ocfs2/cluster.conf")).to.deep.equal(["o2cb", "--config-file=/etc/ocfs2/cluster.conf", "list-cluster", "ocfs2"]);
    expect(o2cbClusterStatus("ocfs2")).to.deep.equal(["o2cb", "cluster-status", "ocfs2"]);
    rejects(() => serviceO2cb("configure" as O2cbServiceAction), "action");
    rejects(() => serviceO2cb("online", "bad-name"), "cluster");
    rejects(() => serviceO2cb("online", "a".repeat(17)), "cluster");
  });

  it("builds the Oracle VM 2.1 cluster scripts as the guide runs them", () => {
    expect(ovsClusterConfigure()).to.deep.equal(["/usr/lib/ovs/ovs-cluster-configure"]);
    expect(ovsMakerepo("example.com:/OVS", "C", "cluster root")).to.deep.equal(["/usr/lib/ovs/ovs-makerepo", "example.com:/OVS", "C", "cluster root"]);
    expect(ovsMakerepo("/dev/sda1", "C", "cluster root")[1]).to.equal("/dev/sda1");
    expect(ovsClusterCheck({ master: true, alterFstab: true })).to.deep.equal(["/usr/lib/ovs/ovs-cluster-check", "--master", "--alter-fstab"]);
    expect(ovsClusterCheck({ master: false, alterFstab: false })).to.deep.equal(["/usr/lib/ovs/ovs-cluster-check"]);
  });

  it("rejects repository sources, kinds and descriptions that are unsafe", () => {
    rejects(() => ovsMakerepo("-rf", "C", "x"), "source");
    rejects(() => ovsMakerepo("relative/path", "C", "x"), "source");
    rejects(() => ovsMakerepo("example.com:/OVS/../etc", "C", "x"), "source");
    rejects(() => ovsMakerepo("/dev/sda1", "S" as "C", "x"), "kind");
    rejects(() => ovsMakerepo("/dev/sda1", "C", "--help"), "description");
    rejects(() => ovsMakerepo("/dev/sda1", "C", "line\nbreak"), "description");
  });
});
