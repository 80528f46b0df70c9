// Prometheus metrics of the watchdog (prom-client, own registry): servers and guests by state, failovers,
// fence results, detection and recovery durations. Fed after each turn from the new state and its log lines.
// Labels are states, results and server names only: never a fence command, device or detail (the endpoint
// may be open to Prometheus while /status is behind a token).
import type * as http from "http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ManagerState } from "../core/manager";
import type { LogLine } from "../core/types";
import { serveEndpoint } from "./status-endpoint";

const SERVER_STATES = ["up", "suspect", "failed", "fencing", "fenced", "draining", "down", "recovering", "removed"];
const GUEST_STATES = ["unknown", "stopped", "running", "held", "powered-off", "starting", "migrating", "stopping", "error"];
const BUCKETS = [0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 60, 120];

export class WatchdogMetrics {
  readonly registry = new Registry();
  readonly servers = new Gauge({ name: "ovmha_servers", help: "Servers by watchdog state", labelNames: ["state"], registers: [this.registry] });
  readonly guests = new Gauge({ name: "ovmha_guests", help: "HA guests by watchdog state", labelNames: ["state"], registers: [this.registry] });
  readonly quorum = new Gauge({ name: "ovmha_quorum", help: "1 when the watchdog reaches a majority of the pool", registers: [this.registry] });
  readonly failovers = new Counter({ name: "ovmha_failovers_total", help: "HA guests running again on another server after their server failed", registers: [this.registry] });
  readonly starts = new Counter({ name: "ovmha_guest_starts_total", help: "xm create issued", registers: [this.registry] });
  readonly migrations = new Counter({ name: "ovmha_guest_migrations_total", help: "live migrations issued", registers: [this.registry] });
  readonly fences = new Counter({ name: "ovmha_fence_results_total", help: "Fence outcomes", labelNames: ["result"], registers: [this.registry] });
  readonly storageFences = new Counter({ name: "ovmha_storage_fences_total", help: "Storage fences started, and servers known off by a storage fence or their disk heartbeat", labelNames: ["result"], registers: [this.registry] });
  readonly pills = new Counter({ name: "ovmha_pills_written_total", help: "Poison pills written by the watchdog, by answer", labelNames: ["result"], registers: [this.registry] });
  readonly heartbeatMisses = new Counter({ name: "ovmha_heartbeat_misses_total", help: "Heartbeat rounds missed", labelNames: ["server"], registers: [this.registry] });
  readonly heartbeatSeconds = new Histogram({ name: "ovmha_heartbeat_seconds", help: "Heartbeat round duration", buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1], registers: [this.registry] });
  readonly detection = new Histogram({ name: "ovmha_detection_seconds", help: "Last answered heartbeat to server declared failed", buckets: BUCKETS, registers: [this.registry] });
  readonly recovery = new Histogram({ name: "ovmha_recovery_seconds", help: "Last answered heartbeat of a failed server to its guest running elsewhere", buckets: BUCKETS, registers: [this.registry] });
  readonly turnSeconds = new Histogram({ name: "ovmha_turn_seconds", help: "Decision + persist duration of one turn", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5], registers: [this.registry] });
  /** guest -> {failed server, its last answered heartbeat}: set when the guest is held after a failure. */
  #failover = new Map<string, { server: string; lastOkAt: number }>();
  #server?: http.Server;

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "ovmha_" });
  }

  /** After a turn: `before` is the state the turn started from (for the last-heartbeat times). */
  observeTurn(before: ManagerState, after: ManagerState, log: LogLine[]): void {
    for (const line of log) {
      switch (line.event) {
        case "server-failed": {
          const ok = before.servers[line.server!]?.lastOkAt;
          if (ok !== undefined) this.detection.observe((line.t - ok) / 1000);
          break;
        }
        case "guest-held": {
          const ok = before.servers[line.server!]?.lastOkAt;
          if (ok !== undefined) this.#failover.set(line.guest!, { server: line.server!, lastOkAt: ok });
          break;
        }
        case "fence-start":
          if (line.reason.startsWith("storage fence")) this.storageFences.inc({ result: "started" });
          break;
        case "server-fenced": {
          this.fences.inc({ result: "off" });
          if (/^(storage fence|known off by its disk heartbeat)/.test(line.reason)) this.storageFences.inc({ result: "off" });
          // A watchdog resumed mid-failover never saw the guest-held lines: the fence is the origin then.
          const ok = before.servers[line.server!]?.lastOkAt;
          for (const [g, e] of Object.entries(before.guests)) {
            if (ok !== undefined && e.status.state === "held" && e.status.server === line.server && !this.#failover.has(g)) {
              this.#failover.set(g, { server: line.server!, lastOkAt: ok });
            }
          }
          break;
        }
        case "fence-failed":
          // "unconfirmed": off exited 0 but the status query never said off (a fence that lies).
          this.fences.inc({ result: /timed out|no answer/.test(line.reason) ? "timeout" : /not confirmed/.test(line.reason) ? "unconfirmed" : "failed" });
          break;
        case "fence-unavailable":
          this.fences.inc({ result: "unavailable" });
          break;
        case "guest-start":
          this.starts.inc();
          break;
        case "guest-migrate":
          this.migrations.inc();
          break;
        case "guest-running": {
          const f = this.#failover.get(line.guest!);
          if (!f) break;
          this.#failover.delete(line.guest!);
          if (line.server !== f.server) {
            this.failovers.inc();
            this.recovery.observe((line.t - f.lastOkAt) / 1000);
          }
          break;
        }
      }
    }
    const count = (states: string[], values: string[]) => {
      const m: Record<string, number> = Object.fromEntries(states.map((s) => [s, 0]));
      for (const v of values) m[v] = (m[v] ?? 0) + 1;
      return m;
    };
    for (const [s, n] of Object.entries(count(SERVER_STATES, Object.values(after.servers).map((x) => x.state)))) this.servers.set({ state: s }, n);
    for (const [s, n] of Object.entries(count(GUEST_STATES, Object.values(after.guests).map((x) => x.status.state)))) this.guests.set({ state: s }, n);
    this.quorum.set(after.quorum ? 1 : 0);
  }

  /** Serves /metrics and /status (the status document from `status()`; behind `statusToken` when given). */
  async listen(port: number, host: string, status: () => unknown, opts: { statusToken?: string } = {}): Promise<number> {
    const r = await serveEndpoint(
      { port, host, statusToken: opts.statusToken },
      { metrics: async () => ({ contentType: this.registry.contentType, text: await this.registry.metrics() }), status },
    );
    this.#server = r.server;
    return r.port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
