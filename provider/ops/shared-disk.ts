// SharedDisk operations (seed 9.2.1-9.2.3). check and diff are the pure schema/diff modules; create, update,
// read and delete act on the servers over SSH:
//   iscsi: node records for the selected targets, login, the new disk from /proc/partitions before/after;
//   iscsi/san: partition once, probe (blkid, mounted.ocfs2 -d), format once from the first server or adopt;
//   all: the fstab line and the mount on every server (unless mount is false).
// Nothing here ever formats a device holding data it does not recognise, and delete never wipes.
import type * as pulumi from "@pulumi/pulumi";
import { diffSharedDisk } from "../diff/shared-disk";
import { partitionDevice } from "../commands";
import { checkSharedDisk, KnownSharedDiskInputs, parseSharedDiskInputs } from "../schemas/shared-disk";
import { fstabEntryForSharedDisk, FstabEntry, ocfs2FstabSource } from "../render/fstab";
import { onEachServer } from "../runtime/remote";
import { PartialFailureError } from "../runtime/init-failed";
import type { ServerEndpoint } from "../ssh";
import { endpointOf } from "./shared-disk/endpoint";
import { detachTarget, ensureNodeRecords, loginTarget, portalOf } from "./shared-disk/iscsi-session";
import { formatOcfs2, isBlockDevice, probeDevice, partitionDisk, readPartitions, surveyDisk } from "./shared-disk/block-device";
import { decideDisk } from "./shared-disk/format-decision";
import { newDisks } from "./shared-disk/new-disks";
import { ensureFstabEntry, ensureMounted, o2cbOnline, readFstabText, readMounts, removeCreatedDirs, removeFstabEntry, unmountIfOurs } from "./shared-disk/mounts";
import { entryFor } from "./shared-disk/fstab-block";
import { findMount } from "../parsers";
import { commonDevicePath, factsOf, knownServers, serverList, SHARED_DISK_SCHEMA_VERSION, SharedDiskFacts, sharedDiskId, SharedDiskState } from "./shared-disk/state";

type Bag = Record<string, unknown>;

/** A refusal made before anything changed: the resource is not created, nothing to record. */
class RefusedError extends Error {}

/** What one converge run did, so a failure can say it and record it. */
interface Run {
  facts: SharedDiskFacts;
  changed: boolean;
  /** Servers where this run made a new iSCSI session (undone when the run refuses the device). */
  newLogins: ServerEndpoint[];
}

export async function check(olds: Bag, news: Bag): Promise<pulumi.dynamic.CheckResult> {
  return checkSharedDisk(olds, news) as pulumi.dynamic.CheckResult;
}

export async function diff(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.DiffResult> {
  return diffSharedDisk(id, olds, news);
}

function serversOf(inputs: KnownSharedDiskInputs): ServerEndpoint[] {
  return inputs.servers.map(endpointOf);
}

function portal(inputs: KnownSharedDiskInputs & { kind: "iscsi" }): string {
  return portalOf(inputs.portal.address, inputs.portal.port);
}

/** iSCSI on one server: records, logins, and which disk is the LUN (new row, or the one remembered). */
async function attachIscsi(inputs: KnownSharedDiskInputs & { kind: "iscsi" }, server: ServerEndpoint, run: Run, remembered?: string): Promise<string> {
  const p = portal(inputs);
  if (await ensureNodeRecords(server, p, inputs.targets)) run.changed = true;
  const before = await readPartitions(server);
  let loggedIn = false;
  for (const iqn of inputs.targets) if (await loginTarget(server, p, iqn)) loggedIn = true;
  if (loggedIn) {
    run.changed = true;
    run.newLogins.push(server);
  }
  const after = loggedIn ? await readPartitions(server) : before;
  const added = newDisks(before, after);
  if (added.length > 1) throw new Error(`logging in to ${inputs.targets.join(", ")} on ${server.name} attached several disks (${added.map((d) => d.name).join(", ")}): give one target per SharedDisk`);
  if (added.length === 1) return `/dev/${added[0].name}`;
  // Already logged in (a re-run, or iscsi started at boot): the disk remembered in state, if it is still there.
  if (remembered && after.some((r) => `/dev/${r.name}` === remembered)) return remembered;
  // Or the disk whose volume is the one remembered (after a reboot renamed it).
  if (run.facts.volumeUuid) {
    for (const r of after) {
      const dev = `/dev/${r.name}`;
      if (!/^sd[a-z]+$/.test(r.name) && !/^loop\d+$/.test(r.name)) continue;
      for (const candidate of [dev, partitionDevice(dev, 1)]) {
        if (!(await isBlockDevice(server, candidate))) continue;
        const c = await probeDevice(server, candidate);
        if (c.type === "ocfs2" && c.uuid === run.facts.volumeUuid) return dev;
      }
    }
  }
  throw new Error(
    `${server.name} is logged in to ${inputs.targets.join(", ")} but its disk cannot be told apart from the others ` +
      `(no new row in /proc/partitions and none remembered): log out (iscsiadm -m node -T TARGET -p ${p} --logout) and run again`,
  );
}

/** Phase 1: every server's whole disk for the LUN. */
async function findDisks(inputs: KnownSharedDiskInputs, servers: ServerEndpoint[], run: Run, previous: SharedDiskFacts): Promise<void> {
  if (inputs.kind === "nfs") return;
  const disks = await onEachServer(inputs.kind === "iscsi" ? "iSCSI login" : "finding the SAN device", servers, async (s) => {
    if (inputs.kind === "iscsi") {
      const disk = await attachIscsi(inputs, s, run, previous.disks[s.name]);
      run.facts.disks[s.name] = disk;
      return disk;
    }
    if (!(await isBlockDevice(s, inputs.device))) throw new RefusedError(`${inputs.device} is not a block device on ${s.name}: a SAN disk must be seen by every server under the same name`);
    run.facts.disks[s.name] = inputs.device;
    return inputs.device;
  });
  servers.forEach((s, i) => (run.facts.disks[s.name] = disks[i]));
}

/** Phase 2: survey the disk from the first server, then adopt, or partition and format once, or refuse. */
async function prepareVolume(inputs: KnownSharedDiskInputs, servers: ServerEndpoint[], run: Run): Promise<void> {
  if (inputs.kind === "nfs") return;
  const first = servers[0];
  const disk = run.facts.disks[first.name];
  const survey = await surveyDisk(first, disk);
  const decision = decideDisk(survey, {
    partition: inputs.partition,
    label: inputs.format.label,
    ...(inputs.adoptVolume !== undefined ? { adoptVolume: inputs.adoptVolume } : {}),
    ...(run.facts.volumeUuid !== undefined ? { recordedUuid: run.facts.volumeUuid } : {}),
    ...(run.facts.partitionTableId !== undefined ? { recordedTableId: run.facts.partitionTableId } : {}),
    overwrite: inputs.overwrite,
  });
  if (decision.action === "refuse") throw new RefusedError(decision.reason);
  const partition = decision.partition;
  for (const s of servers) run.facts.devices[s.name] = partition !== undefined ? partitionDevice(run.facts.disks[s.name], partition) : run.facts.disks[s.name];
  const device = run.facts.devices[first.name];
  if (decision.action === "adopt") {
    run.facts.volumeUuid = decision.uuid;
    run.facts.volumeLabel = decision.label;
  } else {
    if (decision.prepare !== "none") {
      const id = await partitionDisk(first, disk, decision.prepare);
      run.changed = true;
      if (id !== undefined) run.facts.partitionTableId = id;
      if (!(await isBlockDevice(first, device))) throw new Error(`${device} does not exist on ${first.name} after partitioning ${disk} (the kernel did not re-read the table)`);
    }
    await formatOcfs2(first, device, inputs.format, inputs.overwrite);
    run.changed = true;
    run.facts.formatted = true;
    const made = await probeDevice(first, device);
    if (made.type !== "ocfs2" || !made.uuid) throw new Error(`after mkfs.ocfs2, ${device} on ${first.name} holds ${made.type ?? "no file system"}`);
    run.facts.volumeUuid = made.uuid;
    run.facts.volumeLabel = made.label ?? inputs.format.label;
  }
  run.facts.devicePath = commonDevicePath(run.facts.devices, servers.map((s) => s.name), run.facts.devicePath);
  // Every other server must see the very same volume on its device (proves the iSCSI disk mapping too).
  await onEachServer("checking the volume", servers.slice(1), async (s) => {
    const dev = run.facts.devices[s.name];
    if (!(await isBlockDevice(s, dev))) throw new Error(`${dev} does not exist on ${s.name} (the partition table was not re-read there)`);
    const seen = await probeDevice(s, dev);
    if (seen.type !== "ocfs2" || seen.uuid !== run.facts.volumeUuid) {
      throw new Error(`${dev} on ${s.name} holds ${seen.type ?? "no file system"}${seen.uuid ? ` UUID ${seen.uuid}` : ""}, not the volume ${run.facts.volumeUuid}: the servers do not see the same disk`);
    }
  });
}

function fstabEntryFor(inputs: KnownSharedDiskInputs, facts: SharedDiskFacts): FstabEntry {
  // OCFS2: UUID= (the same on every server and after a reboot renames the disk), never the /dev path.
  return fstabEntryForSharedDisk(inputs, inputs.kind === "nfs" ? undefined : facts.volumeUuid);
}

/**
 * The fstab sources that are this disk's on a server: the export (NFS); the volume's `UUID=` line and the
 * /dev path an earlier release wrote (OCFS2). undefined when nothing is known (any line at the mount point).
 */
function ourFstabSources(kind: unknown, exportPath: unknown, facts: SharedDiskFacts, server: string, uuid = facts.volumeUuid): string[] | undefined {
  if (kind === "nfs") return typeof exportPath === "string" ? [exportPath] : undefined;
  const out: string[] = [];
  if (facts.devices[server] !== undefined) out.push(facts.devices[server]);
  if (uuid !== undefined) {
    try {
      out.push(ocfs2FstabSource(uuid));
    } catch {
      /* not a UUID this release can write: only the /dev path is ours */
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Phase 3: the fstab line and the mount on every server (or their absence when mount is false). */
async function mountEverywhere(inputs: KnownSharedDiskInputs, servers: ServerEndpoint[], run: Run): Promise<void> {
  const mounted = await onEachServer(inputs.mount ? "mounting" : "leaving unmounted", servers, async (s) => {
    // What mtab shows once mounted: the export, or the device the UUID= source resolves to on this server.
    const mountedAs = inputs.kind === "nfs" ? inputs.export : run.facts.devices[s.name];
    if (!inputs.mount) {
      if (await unmountIfOurs(s, inputs.mountPoint, mountedAs)) run.changed = true;
      if (await removeFstabEntry(s, inputs.mountPoint, ourFstabSources(inputs.kind, inputs.kind === "nfs" ? inputs.export : undefined, run.facts, s.name))) run.changed = true;
      if (run.facts.createdDirs[s.name]?.length) {
        await removeCreatedDirs(s, run.facts.createdDirs[s.name]);
        delete run.facts.createdDirs[s.name];
        run.changed = true;
      }
      return false;
    }
    const entry = fstabEntryFor(inputs, run.facts);
    if (entry.type === "ocfs2" && !(await o2cbOnline(s))) {
      const already = findMount(await readMounts(s), inputs.mountPoint)?.source === mountedAs;
      if (!already) {
        throw new Error(
          `o2cb is not online on ${s.name} (service o2cb status: Offline): OCFS2 is mounted only with the cluster stack running. ` +
            `Create the Cluster first (dependsOn), or set mount: false for a disk the Cluster registers as its repository`,
        );
      }
    }
    if (await ensureFstabEntry(s, entry)) run.changed = true;
    const m = await ensureMounted(s, entry, mountedAs);
    if (m.mounted) run.changed = true;
    if (m.createdDirs.length > 0) run.facts.createdDirs[s.name] = m.createdDirs;
    return true;
  });
  run.facts.mountedOn = servers.filter((_, i) => mounted[i]).map((s) => s.name);
}

function stateOf(inputs: KnownSharedDiskInputs, facts: SharedDiskFacts): SharedDiskState {
  return { ...inputs, ...facts, schemaVersion: SHARED_DISK_SCHEMA_VERSION } as SharedDiskState;
}

/** Logs out the sessions this run made (used when the device is refused: leave the servers as they were). */
async function undoNewLogins(inputs: KnownSharedDiskInputs, run: Run): Promise<void> {
  if (inputs.kind !== "iscsi") return;
  await Promise.allSettled(run.newLogins.map(async (s) => {
    for (const iqn of inputs.targets) await detachTarget(s, portal(inputs), iqn);
  }));
}

/** Brings every server to the wanted state; idempotent. `previous`: facts from state (update, resume). */
async function converge(id: string, inputs: KnownSharedDiskInputs, previous: SharedDiskFacts, failIfChanged: boolean): Promise<SharedDiskState> {
  const servers = serversOf(inputs);
  const names = new Set(inputs.servers.map((s) => s.name));
  const keep = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).filter(([k]) => names.has(k)));
  const keepDirs = (r: Record<string, string[]>) => Object.fromEntries(Object.entries(r).filter(([k]) => names.has(k)));
  const run: Run = {
    facts: { ...previous, disks: keep(previous.disks), devices: keep(previous.devices), createdDirs: keepDirs(previous.createdDirs), mountedOn: [], serversRecorded: inputs.servers },
    changed: false,
    newLogins: [],
  };
  try {
    await findDisks(inputs, servers, run, previous);
    await prepareVolume(inputs, servers, run);
    await mountEverywhere(inputs, servers, run);
    return stateOf(inputs, run.facts);
  } catch (e) {
    const err = e as Error;
    if (err instanceof RefusedError || (e as { failures?: { error: Error }[] }).failures?.every((f) => f.error instanceof RefusedError)) {
      await undoNewLogins(inputs, run);
      if (failIfChanged) throw new Error(err.message);
    }
    if (!run.changed && failIfChanged) throw err;
    const reason = `SharedDisk ${id}: ${err.message}`;
    throw new PartialFailureError(
      `${reason}\n(what was done is recorded; fix the cause and run pulumi up again to resume: disks ${JSON.stringify(run.facts.disks)}, ` +
        `volume ${run.facts.volumeUuid ?? "not yet formatted"}, mounted on ${run.facts.mountedOn.join(", ") || "no server yet"})`,
      id,
      stateOf(inputs, run.facts) as unknown as Record<string, unknown>,
      [reason],
    );
  }
}

export async function create(inputs: Bag): Promise<pulumi.dynamic.CreateResult> {
  const parsed = parseSharedDiskInputs(inputs);
  const id = sharedDiskId(parsed);
  const outs = await converge(id, parsed, factsOf(undefined), true);
  return { id, outs };
}

/** Undoes the disk on one server: unmount, fstab line, iSCSI sessions and records. Never touches the data. */
async function detach(props: Bag, server: ServerEndpoint): Promise<void> {
  const facts = factsOf(props);
  const kind = props.kind;
  const mountPoint = typeof props.mountPoint === "string" ? props.mountPoint : undefined;
  const source = kind === "nfs" ? (props.export as string | undefined) : facts.devices[server.name];
  if (mountPoint && props.mount !== false) {
    if (source !== undefined || kind === "nfs") await unmountIfOurs(server, mountPoint, source);
    await removeFstabEntry(server, mountPoint, ourFstabSources(kind, props.export, facts, server.name));
  }
  // The mount point directories this resource made (and only those, and only when empty).
  await removeCreatedDirs(server, facts.createdDirs[server.name] ?? []);
  if (kind === "iscsi") {
    const p = props.portal as { address: string; port?: number } | undefined;
    const targets = Array.isArray(props.targets) ? (props.targets as string[]) : [];
    if (p) for (const iqn of targets) await detachTarget(server, portalOf(p.address, p.port ?? 3260), iqn);
  }
}

function recordedServers(props: Bag): ServerEndpoint[] {
  return knownServers(props).map(endpointOf);
}

export async function update(id: string, olds: Bag, news: Bag): Promise<pulumi.dynamic.UpdateResult> {
  const parsed = parseSharedDiskInputs(news);
  const wanted = new Set(parsed.servers.map((s) => s.name));
  // Servers that leave: the disk is undone there first (as delete does).
  const leaving = recordedServers(olds).filter((s) => !wanted.has(s.name));
  await onEachServer("detaching from leaving servers", leaving, (s) => detach(olds, s));
  // A new mount point: the old one is unmounted and its fstab line removed on the servers that stay.
  if (typeof olds.mountPoint === "string" && olds.mountPoint !== parsed.mountPoint && olds.mount !== false) {
    const staying = recordedServers(olds).filter((s) => wanted.has(s.name));
    await onEachServer("unmounting the old mount point", staying, async (s) => {
      const source = parsed.kind === "nfs" ? (olds.export as string) : factsOf(olds).devices[s.name];
      await unmountIfOurs(s, olds.mountPoint as string, source);
      await removeFstabEntry(s, olds.mountPoint as string, ourFstabSources(parsed.kind, olds.export, factsOf(olds), s.name));
      await removeCreatedDirs(s, factsOf(olds).createdDirs[s.name] ?? []);
    });
  }
  const previous = factsOf(olds);
  // The old mount point's directories were removed above; the new one records its own.
  if (olds.mountPoint !== parsed.mountPoint) previous.createdDirs = {};
  const outs = await converge(id, parsed, previous, false);
  return { outs };
}

/**
 * What is really there: on each server, whether the disk is mounted at the mount point from the right source
 * with its fstab line (or, with mount false, whether the device is there), and the volume's UUID. Servers where
 * it is not are left out of `servers`, so the next diff shows an update that puts them back.
 */
export async function read(id: string, props: Bag): Promise<pulumi.dynamic.ReadResult> {
  const facts = factsOf(props);
  const servers = serverList(props.servers).map(endpointOf);
  const inputs = props as Record<string, unknown>;
  // A server that does not answer is kept as it was (listed in unreachableServers): no answer is no drift, and
  // dropping it would make the next up try to attach a dead server.
  const settled = await Promise.allSettled(servers.map(async (s) => {
    const source = inputs.kind === "nfs" ? (inputs.export as string) : facts.devices[s.name];
    if (source === undefined) return { attached: false, mounted: false, uuid: undefined as string | undefined };
    let uuid: string | undefined;
    if (inputs.kind !== "nfs") {
      if (!(await isBlockDevice(s, source))) return { attached: false, mounted: false, uuid };
      const c = await probeDevice(s, source);
      uuid = c.type === "ocfs2" ? c.uuid : undefined;
      if (facts.volumeUuid && uuid !== facts.volumeUuid) return { attached: false, mounted: false, uuid };
    }
    if (inputs.mount === false) return { attached: true, mounted: false, uuid };
    const mountPoint = inputs.mountPoint as string;
    const m = findMount(await readMounts(s), mountPoint);
    const line = entryFor(await readFstabText(s), mountPoint);
    const mounted = m?.source === source;
    // The line is ours when it names the volume by UUID= (this release) or by the /dev path (an earlier one;
    // rewritten to UUID= the next time up converges this disk).
    const ours = ourFstabSources(inputs.kind, inputs.export, facts, s.name, facts.volumeUuid ?? uuid) ?? [];
    return { attached: mounted && line !== undefined && ours.includes(line.device), mounted, uuid };
  }));
  const unreachableServers = servers.filter((_, i) => settled[i].status === "rejected").map((s) => s.name);
  const wasMounted = new Set(Array.isArray(props.mountedOn) ? (props.mountedOn as string[]) : []);
  const ok = settled.map((r, i) =>
    r.status === "fulfilled" ? r.value : { attached: true, mounted: wasMounted.has(servers[i].name), uuid: undefined as string | undefined },
  );
  const attached = servers.filter((_, i) => ok[i].attached).map((s) => s.name);
  const listed = Array.isArray(props.servers) ? (props.servers as { name: string }[]) : [];
  const keptServers = listed.filter((s) => attached.includes(s.name));
  const volumeUuid = ok.find((r) => r.uuid)?.uuid ?? facts.volumeUuid;
  const mountedOn = servers.filter((_, i) => ok[i].mounted).map((s) => s.name);
  const outs = { ...props, servers: keptServers, mountedOn, unreachableServers, ...(volumeUuid ? { volumeUuid } : {}), schemaVersion: SHARED_DISK_SCHEMA_VERSION };
  const { __provider: _p, ...rest } = outs as Bag;
  return { id, props: outs, inputs: { ...inputsOnly(rest), servers: keptServers } };
}

/** The input properties of a state bag (outputs carry facts too; inputs must hold only what check accepts). */
function inputsOnly(props: Bag): Bag {
  const facts = new Set(["disks", "devices", "devicePath", "volumeUuid", "volumeLabel", "partitionTableId", "createdDirs", "formatted", "mountedOn", "serversRecorded", "unreachableServers", "schemaVersion"]);
  return Object.fromEntries(Object.entries(props).filter(([k]) => !facts.has(k)));
}

/** Unmounts, removes the fstab lines and the iSCSI sessions/records on every server. Never wipes data. */
export async function delete_(id: string, props: Bag): Promise<void> {
  const servers = recordedServers(props);
  await onEachServer(`deleting SharedDisk ${id}`, servers, (s) => detach(props, s));
}
export { delete_ as delete };
