import { expect } from "chai";
import { readFileSync } from "fs";
import { join } from "path";
import {
  ParseError, iscsiExitMeaning, parseIscsiDiscovery, parseIscsiLoginOutput, parseIscsiNodes, parseIscsiSessions,
} from "../../provider/parsers";

const sample = (name: string): string => readFileSync(join(__dirname, "../../../test/fixtures/samples", name), "utf8");

describe("parsers: iscsiadm", () => {
  it("reads the seed chapter's six discovered targets", () => {
    const t = parseIscsiDiscovery(sample("iscsi-discovery-seed.txt"));
    expect(t).to.have.length(6);
    expect(t[0]).to.deep.equal({ address: "10.1.1.1", port: 3260, tpgt: 5, iqn: "iqn.1992-04.com.emc:cx.apm00070202838.a2", portal: "10.1.1.1:3260" });
    expect(t[5]).to.include({ address: "10.2.0.250", tpgt: 3, iqn: "iqn.1992-04.com.emc:cx.apm00070202838.b0" });
    expect(t.map((x) => x.tpgt)).to.deep.equal([5, 6, 4, 1, 2, 3]);
  });

  it("reads IPv6 portals and skips iscsiadm diagnostics", () => {
    const t = parseIscsiNodes("[fe80::1]:3260,1 iqn.2009-01.com.example:disk1\niscsiadm: No records found\n");
    expect(t).to.deep.equal([{ address: "fe80::1", port: 3260, tpgt: 1, iqn: "iqn.2009-01.com.example:disk1", portal: "[fe80::1]:3260" }]);
    expect(parseIscsiNodes("iscsiadm: No records found\n")).to.deep.equal([]);
  });

  it("throws ParseError on a line that is not a target record", () => {
    expect(() => parseIscsiDiscovery("10.1.1.1 iqn.x\n")).to.throw(ParseError, /iscsiadm -m discovery.*10\.1\.1\.1 iqn\.x/);
  });

  it("reads sessions with sid, portal and the newer (non-flash) note", () => {
    const s = parseIscsiSessions(sample("iscsi-session.txt"));
    expect(s[0]).to.deep.equal({ address: "10.1.1.1", port: 3260, tpgt: 5, portal: "10.1.1.1:3260",
      iqn: "iqn.1992-04.com.emc:cx.apm00070202838.a2", transport: "tcp", sid: 1 });
    expect(s[1]).to.include({ sid: 2, tpgt: 6, note: "non-flash" });
    expect(parseIscsiSessions("iscsiadm: No active sessions.\n")).to.deep.equal([]);
    expect(() => parseIscsiSessions("tcp: 1 10.1.1.1:3260,1 iqn.x\n")).to.throw(ParseError, /iscsiadm -m session/);
  });

  it("reads 2009-era login and logout output", () => {
    const login = parseIscsiLoginOutput(sample("iscsi-login-2009.txt"));
    expect(login.attempted).to.have.length(1);
    expect(login.succeeded).to.deep.equal([{ iface: "default", iqn: "iqn.1992-04.com.emc:cx.apm00070202838.a2", address: "10.1.1.1", port: 3260 }]);
    expect(login.errors).to.deep.equal([]);
    const logout = parseIscsiLoginOutput(sample("iscsi-logout-2009.txt"));
    expect(logout.succeeded[0]).to.include({ sid: 1, address: "10.1.1.1", port: 3260 });
  });

  it("reads the newer wording and failures", () => {
    const out = parseIscsiLoginOutput(
      "Logging in to [iface: default, target: iqn.2009-01.com.example:d, portal: 192.0.2.9,3260] (multiple)\n" +
      "iscsiadm: Could not login to [iface: default, target: iqn.2009-01.com.example:d, portal: 192.0.2.9,3260].\n" +
      "iscsiadm: initiator reported error (8 - connection timed out)\n");
    expect(out.attempted[0]).to.include({ address: "192.0.2.9", iqn: "iqn.2009-01.com.example:d" });
    expect(out.succeeded).to.deep.equal([]);
    expect(out.errors).to.have.length(2);
    const ok = parseIscsiLoginOutput("Login to [iface: default, target: iqn.2009-01.com.example:d, portal: 192.0.2.9,3260] successful.\n");
    expect(ok.succeeded).to.have.length(1);
  });

  it("gives exit codes their meaning", () => {
    expect(iscsiExitMeaning(15, "login")).to.deep.equal({ code: 15, meaning: "session-exists", satisfied: true, nothingFound: false });
    expect(iscsiExitMeaning(15).satisfied).to.equal(false);
    expect(iscsiExitMeaning(21)).to.include({ meaning: "no-objects-found", nothingFound: true, satisfied: false });
    expect(iscsiExitMeaning(5).meaning).to.equal("login-failure");
    expect(iscsiExitMeaning(8).meaning).to.equal("connection-timed-out");
    expect(iscsiExitMeaning(24).meaning).to.equal("authentication-failure");
    expect(iscsiExitMeaning(99).meaning).to.equal("unknown");
  });
});
