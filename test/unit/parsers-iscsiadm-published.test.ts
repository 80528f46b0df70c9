// iscsiadm outputs as published (test/fixtures/samples/SOURCES.md names each source): the open-iscsi README's own
// examples, and the seed chapter's discovery. The parsers must read them as they are (trailing blanks included).
import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import { parseIscsiDiscovery, parseIscsiNodes, parseIscsiSessions } from "../../provider/parsers";

const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");
const IQN = "iqn.1992-08.com.netapp:sn.33615311";

describe("parsers: iscsiadm outputs published by open-iscsi (README, open-iscsi/open-iscsi)", () => {
  it("iscsiadm -m node (the first line ends with a blank)", () => {
    expect(sample("iscsiadm-node-open-iscsi-readme.txt").split("\n")[0].endsWith(" ")).to.equal(true);
    expect(parseIscsiNodes(sample("iscsiadm-node-open-iscsi-readme.txt")).map((t) => [t.address, t.port, t.tpgt, t.iqn])).to.deep.equal([
      ["10.15.85.19", 3260, 3, IQN],
      ["10.15.84.19", 3260, 2, IQN],
    ]);
  });
  it("iscsiadm -m discovery -t st", () => {
    expect(parseIscsiDiscovery(sample("iscsiadm-discovery-open-iscsi-readme.txt")).map((t) => t.tpgt)).to.deep.equal([2, 3]);
  });
  it("iscsiadm -m session in the README's form (`tcp [2]`, no colon)", () => {
    expect(parseIscsiSessions(sample("iscsiadm-session-open-iscsi-readme.txt")).map((s) => [s.transport, s.sid, s.address, s.tpgt, s.iqn])).to.deep.equal([
      ["tcp", 2, "10.15.84.19", 2, IQN],
      ["tcp", 3, "10.15.85.19", 3, IQN],
    ]);
  });
});
