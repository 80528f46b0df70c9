// Guest operations (seed 9.1, 9.4): the guest's vm.cfg and HA record in running_pool/NAME/, a start with
// `xm create` on the first preferred server that is up and has room (or, with `auto`, the one with the most free
// memory), and read of where it runs now. Where it runs is observed, never desired: it is an output only.
import type * as pulumi from "@pulumi/pulumi";
import { checkGuest, KnownGuestInputs, parseGuestInputs } from "../schemas/guest";
import { diffGuest } from "../diff/guest";
import { parseVmCfg, parseXmCreate, parseXmError } from "../parsers";
import { xmCreate, xmDestroy, xmShutdown } from "../commands";
import { PartialFailureError } from "../runtime/init-failed";
import { ensureFile, run, unreachableOnly } from "../runtime/remote";
import { ServerEndpoint, shellWithArgs } from "../ssh";
import { cfgPath, generatedMac, guestDir, haRecordPath, imagePath, renderGuestRecord, renderGuestVmCfg } from "./guest/guest-files";
import { placeGuest } from "../../ha/placement";
import { freeMemory, invalidate, reserve, snapshot, Snapshot, withPlacementLock } from "./guest/pool-view";
import { endpointOf, KnownServer } from "./server-pool/pool-servers";
import { readFiles } from "./server-pool/propagate";
import { withRunStats } from "./server-pool/run-stats-file";
import { reasonOf, runningGuests } from "./server-pool/server-probe";

type Bag = Record<string, unknown>;

export const GUEST_STATE_VERSION = 1;
/** A shared probe of the pool is reused this long by the guests of one run. */
const PROBE_MAX_AGE_MS = 3000;
/** `xm shutdown` gets this long before `xm destroy`. */
export const SHUTDOWN_DEADLINE_MS = Number(process.env.OVM_HA_GUEST_SHUTDOWN_DEADLINE_MS || 60000);

const INPUT_KEYS = ["name", "pool", "memory", "vcpus", "disk", "network", "ha", "preferredServers", "priority", "onCrash"] as const;

function pickInputs(props: Bag): Bag {
  const out: Bag = {};
  for (const k of INPUT_KEYS) if (props?.[k] !== undefined) out[k] = props[k];
  return out;
}

interface Ctx {
  g: KnownGuestInputs;
  id: string;
  key: string;
  servers: ServerEndpoint[];
}

function context(bag: Bag): Ctx {
  const g = parseGuestInputs(pickInputs(bag));
  const servers = [g.pool.master, ...g.pool.members].map((s) => endpointOf(s as KnownServer));
  return { g, id: `${g.pool.name}/${g.name}`, key: `${g.pool.name}|${servers.map((s) => `${s.name}@${s.address}:${s.port}`).join(",")}`, servers };
}

interface Where {
  server?: string;
  domainId?: number;
  /** Servers that did not answer: the guest may run there. */
  unreachable: string[];
}

function findGuest(snap: Snapshot, servers: ServerEndpoint[], name: string): Where {
  const w: Where = { unreachable: [] };
  // Only the network makes a server unreachable: refused credentials or a changed host key stop here, naming
  // every such server, before anything is changed (never "it may run there").
  unreachableOnly(
    `guest ${name}: looking for it on the pool's servers`,
    servers.flatMap((s) => {
      const p = snap.probes.get(s.name);
      return p instanceof Error ? [{ server: s.name, error: p }] : [];
    }),
  );
  for (const s of servers) {
    const p = snap.probes.get(s.name);
    if (!p || p instanceof Error) {
      w.unreachable.push(s.name);
      continue;
    }
    const d = runningGuests(p).find((x) => x.name === name);
    if (d && w.server === undefined) {
      w.server = s.name;
      w.domainId = d.id ?? undefined;
    }
  }
  return w;
}

function outputs(c: Ctx, o: { mac: string; where: Where; diskCreated: boolean; complete?: boolean }): Bag {
  return {
    ...(c.g as unknown as Bag),
    running: o.where.server !== undefined,
    runningOn: o.where.server ?? null,
    domainId: o.where.domainId ?? null,
    unreachableServers: o.where.unreachable,
    mac: o.mac,
    vmCfgPath: cfgPath(c.g.name),
    haRecordPath: haRecordPath(c.g.name),
    diskPath: imagePath(c.g),
    diskCreated: o.diskCreated,
    // Written just now from the inputs (read re-checks them; a refresh of an untouched guest is no change).
    vmCfgInSync: true,
    haRecordInSync: true,
    haEffective: c.g.ha && c.g.pool.ha === true,
    stateVersion: GUEST_STATE_VERSION,
  };
}

export async function check(olds: Bag, news: Bag): Promise<pulumi.dynamic.CheckResult> {
  const r = checkGuest(olds, news);
  return { inputs: r.inputs as Bag, failures: r.failures };
}

export async function diff(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.DiffResult> {
  return diffGuest(id, olds, news);
}

/** What the servers must confirm before anything changes: the repository is there, an existing image exists. */
async function preflight(c: Ctx, on: ServerEndpoint): Promise<{ imageExists: boolean }> {
  const r = await run(on, shellWithArgs('[ -d "$1" ] && echo repo=yes || echo repo=no; [ -e "$2" ] && echo image=yes || echo image=no', `${guestDir(c.g.name).replace(/\/[^/]+$/, "")}`, imagePath(c.g)));
  if (!r.stdout.includes("repo=yes")) throw new Error(`guest ${c.g.name}: ${guestDir(c.g.name).replace(/\/[^/]+$/, "")} does not exist on ${on.name}: is the cluster root mounted and registered?`);
  const imageExists = r.stdout.includes("image=yes");
  if (c.g.disk.path !== undefined && !imageExists) throw new Error(`guest ${c.g.name}: disk image ${c.g.disk.path} does not exist (seen from ${on.name}); nothing was changed`);
  return { imageExists };
}

/** Chooses a server and holds the memory there; throws, naming every server's free memory, when none fits. */
async function place(c: Ctx): Promise<{ server: ServerEndpoint; release: { done(): void; cancel(): void } }> {
  return withPlacementLock(c.key, async () => {
    const snap = await snapshot(c.key, c.servers, PROBE_MAX_AGE_MS);
    const up = c.servers.flatMap((s) => {
      const free = freeMemory(c.key, snap, s.name);
      return free === undefined ? [] : [{ name: s.name, freeMemoryMb: free }];
    });
    const pl = placeGuest(c.g.memory, c.g.preferredServers, up, c.servers.map((s) => s.name));
    if (!pl.ok) throw new Error(`guest ${c.g.name} cannot start: ${pl.reason}; nothing was changed`);
    return { server: c.servers.find((s) => s.name === pl.server)!, release: reserve(c.key, pl.server, c.g.memory) };
  });
}

/** Writes vm.cfg and ha.json where they differ (one read for both), and the new sparse image if missing. */
async function writeFiles(c: Ctx, on: ServerEndpoint, mac: string, imageExists: boolean, done: string[]): Promise<boolean> {
  const want = new Map([
    [cfgPath(c.g.name), renderGuestVmCfg(c.g, mac)],
    [haRecordPath(c.g.name), renderGuestRecord(c.g)],
  ]);
  const have = await readFiles(on, [...want.keys()]);
  for (const [path, content] of want) {
    if (have.get(path) === content) continue;
    await ensureFile(on, path, content, { mode: "644" });
    done.push(`wrote ${path}`);
  }
  let created = false;
  if (c.g.disk.sizeMB !== undefined && !imageExists) {
    await run(on, shellWithArgs('mkdir -p -- "$(dirname -- "$1")" && [ ! -e "$1" ] && truncate -s "$2"M -- "$1"', imagePath(c.g), String(c.g.disk.sizeMB)), { write: true, step: `creating the sparse image ${imagePath(c.g)}` });
    done.push(`created sparse image ${imagePath(c.g)}`);
    created = true;
  }
  return created;
}

/** Starts the guest on a placed server; an "already exists" answer means it already runs there. */
async function start(c: Ctx, target: ServerEndpoint): Promise<number | undefined> {
  const r = await run(target, xmCreate(cfgPath(c.g.name)), { write: true, okCodes: [0, 1, 2, 3], timeoutMs: 120000 });
  const started = parseXmCreate(r.stdout);
  if (started) return started.id;
  const err = parseXmError(r.stderr + r.stdout);
  if (err?.kind === "already-exists") return err.id;
  throw new Error(`xm create on ${target.name} failed: ${err?.message ?? (r.stderr || r.stdout).trim().split("\n")[0]}`);
}

/** Makes the files right and the guest running (never restarting it when it runs anywhere). */
async function converge(c: Ctx, o: { mac: string; diskCreated: boolean }): Promise<Bag> {
  const done: string[] = [];
  let diskCreated = o.diskCreated;
  const snap = await snapshot(c.key, c.servers, PROBE_MAX_AGE_MS);
  let where = findGuest(snap, c.servers, c.g.name);
  try {
    if (where.server !== undefined) {
      const on = c.servers.find((s) => s.name === where.server)!;
      const { imageExists } = await preflight(c, on);
      diskCreated = (await writeFiles(c, on, o.mac, imageExists, done)) || diskCreated;
      return outputs(c, { mac: o.mac, where, diskCreated });
    }
    if (where.unreachable.length > 0) {
      throw new Error(`guest ${c.g.name} is not running on the servers that answer, and ${where.unreachable.join(", ")} did not answer: it may run there, so it is not started (nothing was changed)`);
    }
    // Everything the servers can refuse is checked before the first change.
    const { server, release } = await place(c);
    try {
      const { imageExists } = await preflight(c, server);
      diskCreated = (await writeFiles(c, server, o.mac, imageExists, done)) || diskCreated;
      const domainId = await start(c, server);
      release.done();
      done.push(`started on ${server.name}`);
      where = { server: server.name, domainId, unreachable: [] };
    } catch (e) {
      release.cancel();
      throw e;
    } finally {
      invalidate(c.key);
    }
    return outputs(c, { mac: o.mac, where, diskCreated });
  } catch (e) {
    if (done.length === 0) throw e;
    throw new PartialFailureError(
      `guest ${c.g.name}: stopped part-way (${done.join("; ")}): ${(e as Error).message}\nThe next up resumes it.`,
      c.id,
      { ...outputs(c, { mac: o.mac, where: { unreachable: where.unreachable }, diskCreated }), running: false },
      [(e as Error).message],
    );
  }
}

export async function create(inputs: Bag): Promise<pulumi.dynamic.CreateResult> {
  const c = context(inputs);
  return withRunStats(c.servers.map((s) => s.name), async () => {
    const mac = c.g.network.mac ?? generatedMac(c.g.pool.name, c.g.name);
    const outs = await converge(c, { mac, diskCreated: false });
    return { id: c.id, outs };
  });
}

export async function update(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.UpdateResult> {
  const c = context(news);
  return withRunStats(c.servers.map((s) => s.name), async () => {
    const mac = c.g.network.mac ?? (typeof olds.mac === "string" ? olds.mac : generatedMac(c.g.pool.name, c.g.name));
    const diskCreated = olds.diskCreated === true;
    // A new-image disk that grew: extend the sparse file (the guest sees it at its next start).
    const oldSize = (olds.disk as Bag | undefined)?.sizeMB;
    if (diskCreated && typeof oldSize === "number" && c.g.disk.sizeMB !== undefined && c.g.disk.sizeMB > oldSize) {
      await run(c.servers[0], shellWithArgs('truncate -s "$2"M -- "$1"', imagePath(c.g), String(c.g.disk.sizeMB)), { write: true, step: `growing ${imagePath(c.g)}` });
    }
    return { outs: await converge(c, { mac, diskCreated }) };
  });
}

export async function read(id: string, props: Bag): Promise<pulumi.dynamic.ReadResult> {
  const c = context(props);
  return withRunStats(c.servers.map((s) => s.name), async () => {
    const snap = await snapshot(c.key, c.servers, PROBE_MAX_AGE_MS);
    const where = findGuest(snap, c.servers, c.g.name);
    const out: Bag = { ...props, unreachableServers: where.unreachable };
    if (where.server !== undefined) {
      Object.assign(out, { running: true, runningOn: where.server, domainId: where.domainId ?? null });
    } else if (where.unreachable.length === 0) {
      Object.assign(out, { running: false, runningOn: null, domainId: null });
    } // else: it may run on a server that did not answer; keep what state says.
    const reader = c.servers.find((s) => s.name === (where.server ?? "")) ?? c.servers.find((s) => !where.unreachable.includes(s.name));
    if (reader) {
      const files = await readFiles(reader, [cfgPath(c.g.name), haRecordPath(c.g.name)]);
      const cfg = files.get(cfgPath(c.g.name));
      const rec = files.get(haRecordPath(c.g.name));
      if (cfg === undefined && rec === undefined && out.running === false) return { id: "", props: {} };
      // Hand edits show as drift of the inputs they came from (the next up writes them back).
      // Anything else that differs from what the inputs render is drift too: the next up rewrites the file.
      delete out.vmCfgMissing;
      delete out.haRecordMissing;
      delete out.filesReadError;
      const mac = typeof props.mac === "string" ? props.mac : (c.g.network.mac ?? generatedMac(c.g.pool.name, c.g.name));
      out.vmCfgInSync = cfg === renderGuestVmCfg(c.g, mac);
      out.haRecordInSync = rec === renderGuestRecord(c.g);
      try {
        if (cfg !== undefined) {
          const v = parseVmCfg(cfg);
          if (typeof v.memory === "number") out.memory = v.memory;
          if (typeof v.vcpus === "number") out.vcpus = v.vcpus;
        } else out.vmCfgMissing = true;
        if (rec !== undefined) {
          const r = JSON.parse(rec) as Bag;
          if (typeof r.ha === "boolean") out.ha = r.ha;
          if (r.preferred !== undefined) out.preferredServers = r.preferred;
          if (typeof r.priority === "number") out.priority = r.priority;
        } else out.haRecordMissing = true;
      } catch (e) {
        out.filesReadError = reasonOf(e);
      }
      out.haEffective = out.ha === true && c.g.pool.ha === true;
    }
    // The inputs as found (hand edits of memory, vcpus, HA settings show as drift of the inputs they came from).
    return { id, props: out, inputs: pickInputs(out) };
  });
}

/** Whether `xm list NAME` on the server lists the guest now. */
async function isListedOn(on: ServerEndpoint, name: string): Promise<boolean> {
  const r = await run(on, ["xm", "list", name], { okCodes: [0, 1, 2, 3] });
  if (r.code === 0) return true;
  if (parseXmError(r.stderr + r.stdout)?.kind === "no-such-domain") return false;
  throw new Error(`guest ${name}: xm list ${name} on ${on.name} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-1)[0]}`);
}

/** Waits until the guest is no longer listed on the server, up to deadline; true when gone. */
async function waitGone(on: ServerEndpoint, name: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await run(on, ["xm", "list", name], { okCodes: [0, 1, 2, 3] });
    if (r.code !== 0 && parseXmError(r.stderr + r.stdout)?.kind === "no-such-domain") return true;
    if (Date.now() >= until) return false;
    await new Promise((res) => setTimeout(res, 500));
  }
}

export async function delete_(id: string, props: Bag): Promise<void> {
  const c = context(props);
  await withRunStats(c.servers.map((s) => s.name), async () => {
    // The pool's shared probe (as create uses it), so that deleting 64 guests at once costs one probe of each
    // server, not 64. A guest it shows running is shut down where it runs; if it is not there any more (moved
    // since), a fresh probe finds it again before anything is removed.
    let snap = await snapshot(c.key, c.servers, PROBE_MAX_AGE_MS);
    let where = findGuest(snap, c.servers, c.g.name);
    if (where.server !== undefined && !(await isListedOn(c.servers.find((s) => s.name === where.server)!, c.g.name))) {
      invalidate(c.key);
      snap = await snapshot(c.key, c.servers, 0);
      where = findGuest(snap, c.servers, c.g.name);
    }
    if (where.server === undefined && where.unreachable.length > 0) {
      throw new Error(`guest ${c.g.name}: ${where.unreachable.join(", ")} did not answer and may run it; its files are kept (retry when the servers answer)`);
    }
    if (where.server !== undefined) {
      const on = c.servers.find((s) => s.name === where.server)!;
      const sd = await run(on, xmShutdown(c.g.name, false), { write: true, okCodes: [0, 1, 2, 3] });
      const gone = (sd.code !== 0 && parseXmError(sd.stderr + sd.stdout)?.kind === "no-such-domain") || (await waitGone(on, c.g.name, SHUTDOWN_DEADLINE_MS));
      if (!gone) {
        const d = await run(on, xmDestroy(c.g.name), { write: true, okCodes: [0, 1, 2, 3] });
        if (d.code !== 0 && parseXmError(d.stderr + d.stdout)?.kind !== "no-such-domain") {
          throw new Error(`guest ${c.g.name}: xm destroy on ${on.name} failed: ${(d.stderr || d.stdout).trim().split("\n")[0]}`);
        }
      }
      invalidate(c.key);
    }
    // Only what this resource made: vm.cfg, ha.json, and the image when it created it. The directory goes when empty.
    const reader = c.servers.find((s) => s.name === where.server) ?? c.servers[0];
    const paths = [cfgPath(c.g.name), haRecordPath(c.g.name), ...(props.diskCreated === true ? [imagePath(c.g)] : [])];
    await run(reader, shellWithArgs('d="$1"; shift; rm -f -- "$@"; rmdir -- "$d" 2>/dev/null; exit 0', guestDir(c.g.name), ...paths), { write: true, step: `removing guest ${c.g.name}'s files` });
  });
}
export { delete_ as delete };
