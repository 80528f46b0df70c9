// ServerPool check: master/members unique across the pool, cluster name grammar, watchdog timing relations.
import { expect } from "chai";
import { UNKNOWN } from "../../provider/schemas/common";
import { checkServerPool } from "../../provider/schemas/server-pool";

const pool = (over: Record<string, unknown> = {}) => ({
  name: "pool1",
  master: { name: "ovs1", address: "192.0.2.11" },
  members: [{ name: "ovs2", address: "192.0.2.12", port: 2222 }],
  cluster: "ocfs2",
  ...over,
});

describe("schemas: ServerPool", () => {
  it("fills defaults", () => {
    const r = checkServerPool({}, pool());
    expect(r.failures).to.deep.equal([]);
    expect(r.inputs).to.deep.include({ ha: false, watchdog: { probeIntervalMs: 5000, probeTimeoutMs: 3000, deadAfterMs: 90000 } });
    expect(checkServerPool({}, pool({ members: undefined })).inputs).to.deep.include({ members: [] });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["a pool name with a slash", pool({ name: "a/b" }), "name", /\[A-Za-z0-9_-\].*got "a\/b"/],
    ["a member with the master's name", pool({ members: [{ name: "ovs1", address: "192.0.2.12" }] }), "members[0].name", /already used by the master; got "ovs1"/],
    ["two members with one address", pool({ members: [{ name: "a", address: "192.0.2.12" }, { name: "b", address: "192.0.2.12" }] }), "members[1].address", /already used by members\[0\]/],
    ["a bad cluster name", pool({ cluster: "cluster_1" }), "cluster", /1\.\.16 characters of \[0-9A-Za-z\]/],
    ["a missing master", pool({ master: undefined }), "master", /is required/],
    ["ha as a string", pool({ ha: "true" }), "ha", /true or false; got "true"/],
    ["a probe timeout not below the interval", pool({ watchdog: { probeIntervalMs: 1000, probeTimeoutMs: 1000 } }), "watchdog.probeTimeoutMs", /less than probeIntervalMs \(1000\); got 1000/],
    ["dead after one probe", pool({ watchdog: { probeIntervalMs: 5000, deadAfterMs: 9999 } }), "watchdog.deadAfterMs", /two probe intervals \(10000\); got 9999/],
    ["a probe interval of 100 ms", pool({ watchdog: { probeIntervalMs: 100 } }), "watchdog.probeIntervalMs", /500\.\.600000 ms; got 100/],
    ["a member port 65536", pool({ members: [{ name: "ovs2", address: "192.0.2.12", port: 65536 }] }), "members[0].port", /got 65536/],
  ];
  for (const [what, input, property, reason] of bad) {
    it(`refuses ${what}`, () => {
      const r = checkServerPool({}, input);
      const f = r.failures.find((x) => x.property === property);
      expect(f, `failures were ${JSON.stringify(r.failures)}`).to.not.equal(undefined);
      expect(f!.reason).to.match(reason);
    });
  }

  it("accepts unknowns (preview)", () => {
    for (const input of [
      pool({ master: UNKNOWN, members: UNKNOWN, cluster: UNKNOWN, name: UNKNOWN, ha: UNKNOWN }),
      pool({ master: { name: UNKNOWN, address: UNKNOWN, port: UNKNOWN }, watchdog: { probeIntervalMs: UNKNOWN, deadAfterMs: UNKNOWN } }),
    ]) {
      expect(checkServerPool({}, input).failures).to.deep.equal([]);
    }
  });
});
