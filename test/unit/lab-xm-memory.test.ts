import { expect } from "chai";
import { DomainRecord, pruneRecord } from "../../lab/hypervisor/domain-store";
import { freeMemoryMb, notEnoughMemoryMessage } from "../../lab/hypervisor/memory";

function rec(over: Partial<DomainRecord>): DomainRecord {
  return { name: "vm", id: 1, memory: 512, vcpus: 1, cfgPath: "/x/vm.cfg", pid: 100, state: "running", startedAt: 0, ...over };
}

describe("lab xm: memory accounting and record pruning", () => {
  const server = { totalMemoryMb: 4096, dom0MemoryMb: 512 };

  it("free memory is total minus dom0 minus every domain, reservations included", () => {
    expect(freeMemoryMb(server, [])).to.equal(3584);
    expect(freeMemoryMb(server, [rec({ memory: 1024 }), rec({ name: "in", memory: 2048, state: "migrating", pid: 0 })])).to.equal(512);
    expect(freeMemoryMb(server, [rec({ memory: 5000 })])).to.equal(0);
  });

  it("words the refusal like xend, in KiB", () => {
    expect(notEnoughMemoryMessage(1024, 512)).to.match(/I need 1048576 KiB but only have 524288\.$/);
  });

  it("drops records whose guest died and reservations whose receiver died", () => {
    const alive = (set: number[]) => (pid: number) => set.includes(pid);
    expect(pruneRecord(rec({}), alive([100]))).to.deep.equal(rec({}));
    expect(pruneRecord(rec({}), alive([]))).to.equal(undefined);
    const reservation = rec({ state: "migrating", pid: 0, ownerPid: 200 });
    expect(pruneRecord(reservation, alive([200]))).to.equal(reservation);
    expect(pruneRecord(reservation, alive([]))).to.equal(undefined);
  });

  it("keeps an outgoing migration while its xm lives, then repairs or drops it", () => {
    const out = rec({ state: "migrating-out", ownerPid: 300 });
    expect(pruneRecord(out, (p) => p === 300)).to.equal(out); // guest already stopped, xm still finishing
    expect(pruneRecord(out, (p) => p === 100)).to.deep.include({ state: "running", ownerPid: undefined });
    expect(pruneRecord(out, () => false)).to.equal(undefined);
  });
});
