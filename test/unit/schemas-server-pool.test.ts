// ServerPool check: master/members unique across the pool, cluster name grammar, watchdog timing limits.
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
    expect(r.inputs).to.deep.include({ ha: false });
    expect((r.inputs.timing as { heartbeatIntervalMs: number; heartbeatMisses: number })).to.deep.include({ heartbeatIntervalMs: 1000, heartbeatMisses: 3 });
    expect(checkServerPool({}, pool({ members: undefined })).inputs).to.deep.include({ members: [] });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["a pool name with a slash", pool({ name: "a/b" }), "name", /\[A-Za-z0-9_-\].*got "a\/b"/],
    ["a member with the master's name", pool({ members: [{ name: "ovs1", address: "192.0.2.12" }] }), "members[0].name", /already used by the master; got "ovs1"/],
    ["two members with one address", pool({ members: [{ name: "a", address: "192.0.2.12" }, { name: "b", address: "192.0.2.12" }] }), "members[1].address", /already used by members\[0\]/],
    ["a bad cluster name", pool({ cluster: "cluster_1" }), "cluster", /1\.\.16 characters of \[0-9A-Za-z\]/],
    ["a missing master", pool({ master: undefined }), "master", /is required/],
    ["ha as a string", pool({ ha: "true" }), "ha", /true or false; got "true"/],
    ["a heartbeat slower than 1 s", pool({ timing: { heartbeatIntervalMs: 5000, heartbeatMisses: 3, stabilityMs: 10000, restartBudget: { max: 3, windowMs: 600000 } } }), "timing.heartbeatIntervalMs", /at most 1000 ms/],
    ["more than 3 misses", pool({ timing: { heartbeatIntervalMs: 1000, heartbeatMisses: 5, stabilityMs: 10000, restartBudget: { max: 3, windowMs: 600000 } } }), "timing.heartbeatMisses", /1\.\.3/],
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
      pool({ master: { name: UNKNOWN, address: UNKNOWN, port: UNKNOWN }, timing: UNKNOWN }),
    ]) {
      expect(checkServerPool({}, input).failures).to.deep.equal([]);
    }
  });
});
