// Guest check: names safe for vm.cfg/paths, sizes, MAC, preferred servers that belong to the pool.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkGuest, parseGuestInputs } from "../../provider/schemas/guest";

const guest = (over: Record<string, unknown> = {}) => ({
  name: "vm1",
  pool: { name: "pool1", master: { name: "ovs1", address: "192.0.2.11" }, members: [{ name: "ovs2", address: "192.0.2.12" }] },
  memory: 1024,
  vcpus: 2,
  disk: { sizeMB: 10240 },
  ...over,
});

describe("schemas: Guest", () => {
  it("fills defaults: auto placement, xenbr0, on_crash restart", () => {
    const r = checkGuest({}, guest());
    expect(r.failures).to.deep.equal([]);
    expect(r.inputs).to.deep.include({ ha: false, preferredServers: "auto", priority: 50, onCrash: "restart", network: { bridge: "xenbr0" } });
  });

  it("accepts an ordered list of the pool's servers and upper-cases a MAC", () => {
    const r = checkGuest({}, guest({ preferredServers: ["ovs2", "ovs1"], network: { mac: "00:16:3e:0a:0b:0c" } }));
    expect(r.failures).to.deep.equal([]);
    expect(r.inputs).to.deep.include({ preferredServers: ["ovs2", "ovs1"], network: { bridge: "xenbr0", mac: "00:16:3E:0A:0B:0C" } });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["a name with a quote (Python injection)", guest({ name: "vm1'; import os #" }), "name", /\[A-Za-z0-9_-\].*got "vm1'; import os #"/],
    ["a name with a dot", guest({ name: ".." }), "name", /got "\.\."/],
    ["memory 16 MB", guest({ memory: 16 }), "memory", /32\.\.1048576; got 16/],
    ["memory as text", guest({ memory: "1G" }), "memory", /integer.*got "1G"/],
    ["0 vcpus", guest({ vcpus: 0 }), "vcpus", /1\.\.128; got 0/],
    ["both disk path and size", guest({ disk: { path: "/OVS/x.img", sizeMB: 1 } }), "disk", /exactly one of path.*or sizeMB/],
    ["a relative disk path", guest({ disk: { path: "x.img" } }), "disk.path", /absolute path/],
    ["a disk path with a comma", guest({ disk: { path: "/OVS/a,b.img" } }), "disk.path", /absolute path/],
    ["a multicast MAC", guest({ network: { mac: "01:16:3E:00:00:01" } }), "network.mac", /unicast.*got "01:16:3E:00:00:01"/],
    ["a malformed MAC", guest({ network: { mac: "00:16:3E:00:00" } }), "network.mac", /xx:xx:xx:xx:xx:xx/],
    ["a bridge with '='", guest({ network: { bridge: "br=0" } }), "network.bridge", /interface\) name.*got "br=0"/],
    ["a preferred server outside the pool", guest({ preferredServers: ["ovs1", "ovs9"] }), "preferredServers[1]", /server of pool pool1 \(ovs1, ovs2\); got "ovs9"/],
    ["a preferred server listed twice", guest({ preferredServers: ["ovs1", "ovs1"] }), "preferredServers[1]", /unique/],
    ["an empty preference list", guest({ preferredServers: [] }), "preferredServers", /at least one server, or be "auto"/],
    ["a preference word", guest({ preferredServers: "any" }), "preferredServers", /"auto" or an ordered list.*got "any"/],
    ["priority 101", guest({ priority: 101 }), "priority", /0\.\.100; got 101/],
    ["on_crash reboot", guest({ onCrash: "reboot" }), "onCrash", /destroy, restart, preserve, rename-restart; got "reboot"/],
    ["a stray server field", guest({ server: "ovs1" }), "server", /not a known property/],
  ];
  for (const [what, input, property, reason] of bad) {
    it(`refuses ${what}`, () => {
      const r = checkGuest({}, input);
      const f = r.failures.find((x) => x.property === property);
      expect(f, `failures were ${JSON.stringify(r.failures)}`).to.not.equal(undefined);
      expect(f!.reason).to.match(reason);
    });
  }

  it("accepts unknowns (preview), skipping the membership check it cannot do", () => {
    for (const input of [
      guest({ memory: UNKNOWN, vcpus: UNKNOWN, disk: UNKNOWN, pool: UNKNOWN, preferredServers: ["ovs9"] }),
      guest({ pool: { name: UNKNOWN, master: UNKNOWN, members: UNKNOWN }, preferredServers: [UNKNOWN, "ovs9"] }),
      guest({ disk: { sizeMB: UNKNOWN }, network: { mac: UNKNOWN, bridge: UNKNOWN }, preferredServers: UNKNOWN, priority: UNKNOWN }),
    ]) {
      expect(checkGuest({}, input).failures, JSON.stringify(input)).to.deep.equal([]);
    }
  });

  it("parseGuestInputs throws on unknowns", () => {
    expect(() => parseGuestInputs(guest({ memory: UNKNOWN }))).to.throw(/memory: is still unknown/);
    expect(parseGuestInputs(guest()).memory).to.equal(1024);
  });
});
