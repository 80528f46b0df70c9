// The watchdog's HTTP endpoint: loopback by default; /status behind a bearer token when one is configured
// (wrong or missing token refused); /metrics open but without fence details in any label.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parseWatchdogConfig } from "../../watchdog/daemon/config";
import { WatchdogMetrics } from "../../watchdog/daemon/metrics";
import { readStatusToken, SecretFileError } from "../../watchdog/daemon/secret-files";
import { createManagerState } from "../../watchdog/core/manager";
import { PoolRecordSchema } from "../../ha/ha-record";
import type { LogLine } from "../../watchdog/core/types";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(host: string, port: number, urlPath: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method, headers, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

const base = () => ({ pool: { addresses: ["192.0.2.11"] }, ssh: { privateKeyFile: "/k", knownHostsFile: "/kh" } });
const STATUS = { servers: [{ name: "ovs1", state: "up" }], guests: [{ name: "vm1", state: "running" }] };

describe("watchdog endpoint", function () {
  this.timeout(20000);
  let dir: string;
  let metrics: WatchdogMetrics | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "wd-endpoint-"));
  });
  afterEach(async () => {
    await metrics?.close();
    metrics = undefined;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("listens on 127.0.0.1 by default: reachable there, not at another address of this machine", async () => {
    const c = parseWatchdogConfig({ ...base(), metrics: { port: 0 } });
    metrics = new WatchdogMetrics({ processMetrics: false });
    const port = await metrics.listen(c.metrics!.port, c.metrics!.host, () => STATUS, { statusToken: readStatusToken(c) });
    expect((await get("127.0.0.1", port, "/status")).status).to.equal(200);
    // 127.0.0.2 is this machine too: a listener on 0.0.0.0 would answer there.
    const elsewhere = await get("127.0.0.2", port, "/status").then(
      (a) => `answered ${a.status}`,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(elsewhere).to.equal("ECONNREFUSED");
  });

  describe("with a status token", () => {
    let port: number;
    const token = "0123456789abcdef0123456789abcdef";
    beforeEach(async () => {
      const file = path.join(dir, "status-token");
      fs.writeFileSync(file, token + "\n", { mode: 0o600 });
      const c = parseWatchdogConfig({ ...base(), metrics: { port: 0, host: "0.0.0.0", statusTokenFile: file } });
      metrics = new WatchdogMetrics({ processMetrics: false });
      port = await metrics.listen(c.metrics!.port, c.metrics!.host, () => STATUS, { statusToken: readStatusToken(c) });
    });

    it("refuses /status without a token, or with a wrong one", async () => {
      const none = await get("127.0.0.1", port, "/status");
      expect(none.status).to.equal(401);
      expect(none.headers["www-authenticate"]).to.match(/^Bearer realm="ovm-ha"/);
      expect(none.body).to.not.include("ovs1");
      for (const auth of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, "Bearer ", `Basic ${Buffer.from(`u:${token}`).toString("base64")}`, token]) {
        const wrong = await get("127.0.0.1", port, "/status", { authorization: auth });
        expect(wrong.status, auth).to.equal(401);
        expect(wrong.body, auth).to.not.include("vm1");
      }
    });

    it("answers /status with the right token", async () => {
      const ok = await get("127.0.0.1", port, "/status", { authorization: `Bearer ${token}` });
      expect(ok.status).to.equal(200);
      expect(JSON.parse(ok.body)).to.deep.equal(STATUS);
    });

    it("/metrics stays open (Prometheus scrapes it); other methods and paths are refused", async () => {
      expect((await get("127.0.0.1", port, "/metrics")).status).to.equal(200);
      expect((await get("127.0.0.1", port, "/status", { authorization: `Bearer ${token}` }, "POST")).status).to.equal(405);
      expect((await get("127.0.0.1", port, "/state")).status).to.equal(404);
    });
  });

  it("metrics carry no fence details: no command, device or reason in any label", async () => {
    const pool = PoolRecordSchema.parse({
      schemaVersion: 1,
      name: "p1",
      haEnabled: true,
      generation: 1,
      servers: [
        { name: "ovs1", address: "192.0.2.11", role: "master", fence: { method: "power", command: "ipmitool -H ovs1-bmc.example -U fenceadmin -E chassis power off" } },
        { name: "ovs2", address: "192.0.2.12", role: "member", fence: { method: "power", command: "ipmitool -H ovs2-bmc.example -U fenceadmin -E chassis power off" } },
      ],
    });
    const before = createManagerState(pool, [], 1000);
    const after = createManagerState(pool, [], 9000);
    const reason = "power fence failed: not confirmed: ipmitool -H ovs2-bmc.example -U fenceadmin -E chassis power off exited 0 but the server is still on";
    const log: LogLine[] = [
      { t: 5000, event: "server-failed", server: "ovs2", reason: "3 heartbeats missed" },
      { t: 6000, event: "fence-failed", server: "ovs2", reason, loud: true },
      { t: 8000, event: "fence-failed", server: "ovs2", reason: "power fence timed out (ipmitool -H ovs2-bmc.example: no answer within 5000 ms)", loud: true },
      { t: 9000, event: "server-fenced", server: "ovs2", reason: "power fence confirmed off (ipmitool -H ovs2-bmc.example ... Chassis Power is off)" },
    ];
    metrics = new WatchdogMetrics({ processMetrics: false });
    metrics.observeTurn(before, after, log);
    const text = await metrics.registry.metrics();
    // The fence results are there (so the check below looks at real series) ...
    expect(text).to.match(/^ovmha_fence_results_total\{result="unconfirmed"\} 1$/m);
    expect(text).to.match(/^ovmha_fence_results_total\{result="timeout"\} 1$/m);
    expect(text).to.match(/^ovmha_fence_results_total\{result="off"\} 1$/m);
    // ... and no label value names a fence command, device, user or reason.
    const labelValues = [...text.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1].matchAll(/="([^"]*)"/g)].map((v) => v[1]));
    expect(labelValues.length).to.be.greaterThan(3);
    for (const v of labelValues) expect(v).to.match(/^[a-z0-9.+-]+$/i, `label value ${v}`);
    expect(text).to.not.match(/bmc|ipmitool|fenceadmin|chassis|still on|no answer/);
  });

  it("a token file others can read, or a short token, is refused naming the file", () => {
    const file = path.join(dir, "open-token");
    fs.writeFileSync(file, "0123456789abcdef0123456789abcdef\n", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const c = parseWatchdogConfig({ ...base(), metrics: { port: 0, host: "0.0.0.0", statusTokenFile: file } });
    expect(() => readStatusToken(c)).to.throw(SecretFileError, `metrics.statusTokenFile: ${file} has mode 0644`);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, "short\n");
    expect(() => readStatusToken(c)).to.throw(SecretFileError, /at least 16 characters/);
  });
});
