// Target side of `xm migrate`, run over ssh by the source's xm (see lab/hypervisor/migration-protocol.ts).
// Reserves the domain (a `migrating` record that counts against free memory, listed paused), then starts the
// guest only when the source says its own guest process is gone.
import { DomainRecord, DomainStore } from "../hypervisor/domain-store";
import { startGuest } from "../hypervisor/guest-control";
import { HostContext, loadHostContext } from "../hypervisor/host-context";
import { freeMemoryMb, notEnoughMemoryMessage } from "../hypervisor/memory";
import { LineReader, MigrationOffer } from "../hypervisor/migration-protocol";
import { processStartTicks } from "../hypervisor/process-probe";
import { Readable, Writable } from "stream";
import * as fs from "fs";
import { readXendFault } from "../faults";
import { deviceNumber } from "../hypervisor/vm-config";

/** How long a reservation waits for `go` before it is dropped (source died or was cut off). */
const GO_TIMEOUT_MS = 30000;

export async function receiveMigration(ctx: HostContext, input: Readable, output: Writable): Promise<number> {
  const lines = new LineReader(input);
  const say = (line: string) => new Promise<void>((resolve) => output.write(line + "\n", () => resolve()));
  const first = await lines.next(10000);
  if (!first?.startsWith("OFFER ")) {
    await say("error no migration offer received");
    return 1;
  }
  const offer = JSON.parse(first.slice(6)) as MigrationOffer;
  // The relocation server is part of xend: with xend down the source's connection to it is refused; a busy xend
  // takes the incoming domain late (the source has renamed it migrating-NAME meanwhile).
  const xendFault = readXendFault(ctx.identity.labDir, ctx.server.name);
  if (xendFault?.mode === "down") {
    await say("error can't connect: (111, 'Connection refused')");
    return 1;
  }
  if (xendFault?.mode === "slow") await new Promise((r) => setTimeout(r, xendFault.ms));
  // The target must reach what the guest needs: its vm.cfg (the agent restarts it from there) and every disk
  // (xend connects each vbd on restore; a missing one fails as in xm create).
  if (!fs.existsSync(offer.cfgPath)) {
    await say(`error Unable to open config file: ${offer.cfgPath} (on ${ctx.server.name})`);
    return 1;
  }
  const missing = (offer.disks ?? []).find((d) => !fs.existsSync(d.path));
  if (missing !== undefined) {
    await say(`error Device ${deviceNumber(missing.dev)} (vbd) could not be connected. ${missing.path} does not exist.`);
    return 1;
  }
  const store = new DomainStore(ctx.xendDir);
  const me = { ownerPid: process.pid, ownerStart: processStartTicks(process.pid) };

  let reserved: DomainRecord;
  try {
    reserved = await store.withLock(() => {
      const records = store.list();
      const existing = records.find((r) => r.name === offer.name);
      if (existing) throw new Error(`Domain '${offer.name}' already exists with ID '${existing.id}'`);
      const free = freeMemoryMb(ctx.server, records);
      if (offer.memory > free) throw new Error(notEnoughMemoryMessage(offer.memory, free));
      const rec: DomainRecord = {
        name: offer.name,
        id: store.allocateId(),
        memory: offer.memory,
        vcpus: offer.vcpus,
        cfgPath: offer.cfgPath,
        pid: 0,
        state: "migrating",
        startedAt: Date.now(),
        runlog: offer.runlog,
        disks: offer.disks,
        ...me,
      };
      store.put(rec);
      return rec;
    });
  } catch (e) {
    await say(`error ${(e as Error).message}`);
    return 1;
  }
  await say("ready");

  const command = await lines.next(GO_TIMEOUT_MS);
  const dropReservation = () =>
    store.withLock(() => {
      const r = store.get(reserved.name);
      if (r && r.ownerPid === process.pid) store.remove(r.name);
    });
  if (command !== "go") {
    await dropReservation();
    return 1;
  }
  try {
    await store.withLock(() => {
      const r = store.get(reserved.name);
      // `xm destroy` on the reservation meanwhile cancels the incoming domain.
      if (!r || r.ownerPid !== process.pid) throw new Error(`Domain '${reserved.name}' was destroyed during migration`);
      const guest = startGuest(ctx.server.name, reserved.name, reserved.runlog);
      store.put({ ...r, state: "running", pid: guest.pid, pidStart: guest.pidStart, startedAt: Date.now(), ownerPid: undefined, ownerStart: undefined });
    });
  } catch (e) {
    await dropReservation();
    await say(`error ${(e as Error).message}`);
    return 1;
  }
  await say("started");
  return 0;
}

async function main(): Promise<void> {
  let code = 1;
  try {
    code = await receiveMigration(loadHostContext(), process.stdin, process.stdout);
  } catch (e) {
    process.stderr.write(`xm-receive: ${(e as Error).message}\n`);
  }
  process.exit(code);
}

if (require.main === module) void main();
