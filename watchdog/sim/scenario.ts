// A scenario folder run through the simulator with a manager, tick by tick on a virtual clock.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import {
  DEFAULT_TIMING,
  GuestRecordSchema,
  HA_RECORD_SCHEMA_VERSION,
  PoolRecordSchema,
  checkGuestAgainstPool,
  describeIssues,
  type GuestRecord,
  type PoolRecord,
} from "../../ha/ha-record";
import { createManagerState, step as realStep, type ManagerState, type StepResult } from "../core/manager";
import { restoreState, serializeState } from "../core/durable-state";
import type { Observation } from "../core/types";
import { parseEvents, type SimEvent } from "./events";
import { assertInvariants, InvariantViolation } from "./invariant";
import { SimWorld, type FenceDeviceMode, type SimOptions } from "./world";
import { stopAgent } from "./agents";

/** pool.json of a scenario: the pool record (defaults filled in), the hardware, the guests and where they run. */
const ScenarioFile = z.object({
  pool: z.object({
    name: z.string(),
    haEnabled: z.boolean(),
    timing: z.record(z.string(), z.unknown()).optional(),
    servers: z.array(z.object({ name: z.string(), role: z.string().optional(), fence: z.unknown().optional() }).loose()),
  }),
  hardware: z.record(
    z.string(),
    z.object({
      memoryMb: z.number(),
      fenceDevice: z.enum(["ok", "fail", "timeout", "lies"]).optional(),
      power: z.boolean().optional(),
      /** The server runs `ovm-ha agent` with a watchdog device (slots, pills, self-fencing). */
      agent: z.boolean().optional(),
    }),
  ),
  guests: z.array(z.object({ name: z.string(), runningOn: z.string().optional() }).loose()),
  /** Simulator settings (timings of commands and answers, seed of the jitter). */
  sim: z.object({ migrateMs: z.number(), startMs: z.number(), answerMs: z.number(), jitterMs: z.number(), commandDeadlineMs: z.number(), seed: z.number(), restartBootMs: z.number() }).partial().optional(),
});

export interface Scenario {
  name: string;
  pool: PoolRecord;
  guests: GuestRecord[];
  placement: Record<string, string>;
  hardware: Record<string, { memoryMb: number; fenceDevice?: FenceDeviceMode; power?: boolean; agent?: boolean }>;
  events: SimEvent[];
  sim?: Partial<SimOptions>;
}

export function loadScenario(dir: string): Scenario {
  const raw = ScenarioFile.parse(JSON.parse(fs.readFileSync(path.join(dir, "pool.json"), "utf8")));
  const poolInput = {
    schemaVersion: HA_RECORD_SCHEMA_VERSION,
    generation: 1,
    name: raw.pool.name,
    haEnabled: raw.pool.haEnabled,
    timing: { ...DEFAULT_TIMING, ...(raw.pool.timing ?? {}) },
    servers: raw.pool.servers.map((s, i) => ({ address: `192.0.2.${11 + i}`, role: i === 0 ? "master" : "member", ...s })),
  };
  const pool = PoolRecordSchema.safeParse(poolInput);
  if (!pool.success) throw new Error(`pool.json: ${describeIssues(pool.error).join("; ")}`);
  const guests: GuestRecord[] = [];
  const placement: Record<string, string> = {};
  for (const g of raw.guests) {
    const { runningOn, ...rest } = g;
    const parsed = GuestRecordSchema.safeParse({
      schemaVersion: HA_RECORD_SCHEMA_VERSION,
      vmCfgPath: `/OVS/running_pool/${g.name}/vm.cfg`,
      ...rest,
    });
    if (!parsed.success) throw new Error(`pool.json guest ${g.name}: ${describeIssues(parsed.error).join("; ")}`);
    const problems = checkGuestAgainstPool(parsed.data, pool.data);
    if (problems.length) throw new Error(problems.join("; "));
    guests.push(parsed.data);
    if (runningOn) placement[g.name] = runningOn;
  }
  const eventsFile = path.join(dir, "events.txt");
  const events = fs.existsSync(eventsFile) ? parseEvents(fs.readFileSync(eventsFile, "utf8")) : [];
  return { name: path.basename(dir), pool: pool.data, guests, placement, hardware: raw.hardware, events, sim: raw.sim };
}

export type StepFn = (state: ManagerState, observations: Observation[], now: number) => StepResult;

export interface RunResult {
  world: SimWorld;
  state: ManagerState;
  endAt: number;
  /** Single-instance / capacity checks done (one per tick and one per change of process placement). */
  checks: number;
}

export const TICK_MS = 100;
/** Without an `end` event the run goes on this long after the last event. */
export const RUN_ON_MS = 20000;

export function runScenario(sc: Scenario, stepFn: StepFn = realStep, opts: { checkFences?: boolean } = {}): RunResult {
  const world = new SimWorld(sc.pool, sc.hardware, sc.sim);
  let checks = 0;
  world.onChange = () => {
    checks++;
    assertInvariants(world);
  };
  for (const g of sc.guests) world.guestMemories[g.name] = g.memoryMb;
  for (const [g, server] of Object.entries(sc.placement)) world.place(g, server, world.guestMemories[g]);
  const endEvent = sc.events.find((e) => e.command === "end");
  const endAt = endEvent ? endEvent.at : (sc.events.length ? sc.events[sc.events.length - 1].at : 0) + RUN_ON_MS;
  let state = createManagerState(sc.pool, sc.guests, 0);
  let next = 0;
  for (let t = 0; t <= endAt; t += TICK_MS) {
    world.advance(t);
    while (next < sc.events.length && sc.events[next].at <= t) {
      const e = sc.events[next++];
      if (e.command === "end") continue;
      world.note(`${e.command}${e.arg ? ` ${e.arg}` : ""}${e.n !== undefined ? ` ${e.n}` : ""}`);
      state = applyEvent(world, state, e);
    }
    checks++;
    assertInvariants(world);
    if (opts.checkFences !== false && world.falseFences.length) throw new InvariantViolation(t, world.falseFences.join("; "));
    // Like the daemon: a turn each heartbeat round, and one whenever answers arrive in between; none otherwise.
    const observations = world.collect();
    if (observations.length === 0 && t % sc.pool.timing.heartbeatIntervalMs !== 0 && !state.resumed) continue;
    const result = stepFn(state, observations, t);
    world.lastState = result.state; // persist(): step() never changes a state it returned
    world.report(result.log);
    world.execute(result.actions);
    state = result.state;
  }
  return { world, state, endAt, checks };
}

function applyEvent(world: SimWorld, state: ManagerState, e: SimEvent): ManagerState {
  const serverArg = e.arg !== undefined && e.command !== "start-fails" && e.command !== "start-ok";
  const s = serverArg ? world.server(e.arg!) : undefined;
  switch (e.command) {
    case "crash":
      if (s!.power) world.powerOff(s!, "crash");
      break;
    case "hang":
      s!.hung = true;
      break;
    case "partition":
      s!.partitioned = true;
      break;
    case "cut":
      s!.cut = true;
      break;
    case "cut-peers":
      s!.peersCut = true;
      break;
    case "hang-machine":
      s!.hung = true; // in the simulator a frozen guest still counts as running (it resumes if nothing resets it)
      break;
    case "storage-loss":
      s!.storageLost = true;
      break;
    case "storage-ok":
      s!.storageLost = false;
      break;
    case "agent-stop":
      stopAgent(world, s!);
      break;
    case "operator-pill": {
      const slot = world.storage.slots.get(s!.name);
      world.storage.pills.set(s!.name, { bootId: slot?.bootId ?? null, writer: "operator" });
      world.storage.pillLog.push({ t: world.t, server: s!.name, bootId: slot?.bootId ?? null, writer: "operator" });
      break;
    }
    case "heal":
      s!.sshSlow = 0;
      s!.hung = false;
      s!.partitioned = false;
      s!.cut = false;
      s!.peersCut = false;
      break;
    case "power-on":
      if (!s!.power) world.powerOn(s!);
      break;
    case "shutdown":
    case "restart":
      world.deliver({ kind: "request", op: e.command, server: s!.name }, world.t);
      break;
    case "remove-server":
      world.deliver({ kind: "request", op: "remove", server: s!.name }, world.t);
      break;
    case "fence-fails":
      s!.fenceDevice = "fail";
      break;
    case "fence-timeout":
      s!.fenceDevice = "timeout";
      break;
    case "fence-lies":
      s!.fenceDevice = "lies";
      break;
    case "fence-ok":
      s!.fenceDevice = "ok";
      break;
    case "xend-down":
      s!.xend = "down";
      break;
    case "xend-slow":
      s!.xend = e.n!;
      break;
    case "xend-up":
      s!.xend = "up";
      break;
    case "ssh-slow":
      s!.sshSlow = e.n!;
      break;
    case "lose-answers":
      s!.loseAnswers = e.n!;
      break;
    case "jitter":
      world.opts.jitterMs = e.n!;
      break;
    case "isolate-watchdog":
      world.watchdogIsolated = true;
      break;
    case "heal-watchdog":
      world.watchdogIsolated = false;
      break;
    case "restart-watchdog": {
      // The process dies: only what it persisted survives, and answers on their way to it are lost.
      const lost = world.dropAnswersInFlight();
      world.note(`watchdog restarted from its durable state (${lost} answers in flight lost)`);
      return restoreState(serializeState((world.lastState as ManagerState | undefined) ?? state), world.t, world.opts.commandDeadlineMs);
    }
    case "start-fails":
      world.startFails.add(e.arg!);
      break;
    case "start-ok":
      world.startFails.delete(e.arg!);
      break;
    case "end":
      break;
  }
  return state;
}
