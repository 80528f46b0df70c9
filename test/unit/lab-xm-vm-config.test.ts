import { expect } from "chai";
import { deviceNumber, firstFileDisk, parseCfgAssignments, parseDiskSpec, parseVmConfig, VmConfigError } from "../../lab/hypervisor/vm-config";

describe("lab xm: vm.cfg reading", () => {
  it("reads an Oracle VM style vm.cfg", () => {
    const cfg = parseVmConfig(`# generated
name = 'vm1'
memory = 1024
vcpus = 2
disk = ['file:/OVS/running_pool/vm1/System.img,xvda,w',
        'phy:/dev/sdc,xvdb,w!',   # shared
       ]
vif = [ "bridge=xenbr0,mac=00:16:3E:11:22:33" ]
on_crash = 'restart'
bootloader = "/usr/bin/pygrub"
acpi = True
`);
    expect(cfg.name).to.equal("vm1");
    expect(cfg.memory).to.equal(1024);
    expect(cfg.vcpus).to.equal(2);
    expect(cfg.disks).to.deep.equal([
      { type: "file", target: "/OVS/running_pool/vm1/System.img", dev: "xvda", mode: "w" },
      { type: "phy", target: "/dev/sdc", dev: "xvdb", mode: "w!" },
    ]);
    expect(cfg.vifs).to.deep.equal(["bridge=xenbr0,mac=00:16:3E:11:22:33"]);
    expect(cfg.onCrash).to.equal("restart");
    expect(cfg.values.acpi).to.equal(true);
    expect(firstFileDisk(cfg)?.target).to.equal("/OVS/running_pool/vm1/System.img");
  });

  it("applies xm defaults for memory and vcpus", () => {
    const cfg = parseVmConfig("name = \"small\"\n");
    expect(cfg.memory).to.equal(128);
    expect(cfg.vcpus).to.equal(1);
    expect(cfg.disks).to.deep.equal([]);
    expect(firstFileDisk(cfg)).to.equal(undefined);
  });

  it("understands tuples, None, escapes, semicolons and line continuations", () => {
    const v = parseCfgAssignments("a = ('x', 1); b = None\nc = 'it\\'s' \\\n\nd = 0x10\n");
    expect(v).to.deep.equal({ a: ["x", 1], b: null, c: "it's", d: 16 });
  });

  it("refuses a file without a name, a bad value or an unterminated list", () => {
    expect(() => parseVmConfig("memory = 512\n")).to.throw(VmConfigError, /name/);
    expect(() => parseVmConfig("name = vm1\n")).to.throw(VmConfigError, /line 1/);
    expect(() => parseVmConfig("name = 'a'\ndisk = ['file:/x,xvda,w'\n")).to.throw(VmConfigError);
    expect(() => parseVmConfig("name = 'a'\nmemory = '1G'\n")).to.throw(VmConfigError, /memory/);
  });

  it("parses tap:aio disks and gives xend's device numbers", () => {
    expect(parseDiskSpec("tap:aio:/OVS/x.img,hda:disk,w")).to.deep.equal({ type: "tap:aio", target: "/OVS/x.img", dev: "hda", mode: "w" });
    expect(deviceNumber("xvda")).to.equal(51712);
    expect(deviceNumber("xvdb")).to.equal(51728);
    expect(deviceNumber("hda")).to.equal(768);
    expect(deviceNumber("hdb")).to.equal(832);
    expect(deviceNumber("sda")).to.equal(2048);
  });
});
