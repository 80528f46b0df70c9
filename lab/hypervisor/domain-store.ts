// The stand-in xend's state: one JSON record per domain in /run/xend/domains (a tmpfs wiped at boot, so a
// power cycle forgets every domain, as a real reboot does), domain ids from /run/xend/next-id. Several xm
// commands run at once over separate ssh channels, so every read-modify-write happens under one lock.
import * as fs from "fs";
import * as path from "path";
import * as lockfile from "proper-lockfile";
import { isProcessAlive } from "./process-probe";

export type DomainState =
  /** Guest process running (or blocked): `-b----`. */
  | "running"
  /** Guest process stopped with SIGSTOP by `xm pause`: `--p---`. */
  | "paused"
  /** `xm shutdown` sent SIGTERM; the record goes when the process has exited. */
  | "shutdown"
  /** Incoming migration: memory reserved, no guest process yet: `--p---`. */
  | "migrating"
  /** Outgoing migration in progress on the source. */
  | "migrating-out";

export interface DomainRecord {
  name: string;
  id: number;
  memory: number;
  vcpus: number;
  cfgPath: string;
  /** Guest process; 0 while none runs (incoming migration). */
  pid: number;
  /** /proc start time of `pid`, so a recycled pid is not mistaken for the guest. */
  pidStart?: number;
  state: DomainState;
  startedAt: number;
  /** Where the guest appends its run records (beside its first file: disk), if it has one. */
  runlog?: string;
  /** Its file-backed disks (path, guest device): a migration target must reach every one. */
  disks?: { path: string; dev: string }[];
  /** Process in charge of a transition (migration); the record is kept while it lives. */
  ownerPid?: number;
  ownerStart?: number;
}

/**
 * The name xend shows and answers to. While a domain migrates out, xend renames it `migrating-NAME` for the
 * duration (Xen 3.4 tools/python/xen/xend/XendCheckpoint.py, save(): `dominfo.setName('migrating-' +
 * domain_name)`, and back with `setName(domain_name)` when the save fails and the domain is resumed), so the source
 * lists `migrating-NAME` and `xm list NAME` there finds nothing until the migration has ended.
 */
export function domainName(rec: DomainRecord): string {
  return rec.state === "migrating-out" ? `migrating-${rec.name}` : rec.name;
}

export class DomainStore {
  constructor(readonly dir: string) {}

  private get domainsDir(): string {
    return path.join(this.dir, "domains");
  }

  private recordPath(name: string): string {
    return path.join(this.domainsDir, `${encodeURIComponent(name)}.json`);
  }

  /** Runs `fn` holding the store lock; a frozen or killed holder is taken over after the stale time. */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    fs.mkdirSync(this.domainsDir, { recursive: true });
    const release = await lockfile.lock(this.dir, {
      lockfilePath: path.join(this.dir, "store.lock"),
      realpath: false,
      stale: 10000,
      retries: { retries: 400, minTimeout: 10, maxTimeout: 50, factor: 1.2 },
    });
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** All records, after dropping those whose guest died (call under the lock). */
  list(): DomainRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.domainsDir).filter((f) => f.endsWith(".json"));
    } catch {
      return [];
    }
    const out: DomainRecord[] = [];
    for (const file of names) {
      let rec: DomainRecord;
      try {
        rec = JSON.parse(fs.readFileSync(path.join(this.domainsDir, file), "utf8")) as DomainRecord;
      } catch {
        continue; // a record being replaced; rename makes this rare, and the next read sees it
      }
      const kept = pruneRecord(rec);
      if (kept === undefined) this.remove(rec.name);
      else {
        if (kept !== rec) this.put(kept);
        out.push(kept);
      }
    }
    return out.sort((a, b) => a.id - b.id);
  }

  get(name: string): DomainRecord | undefined {
    return this.list().find((r) => r.name === name);
  }

  /** By the name xend shows (see domainName), or by numeric id, as xm accepts either. */
  find(nameOrId: string): DomainRecord | undefined {
    const all = this.list();
    return all.find((r) => domainName(r) === nameOrId) ?? (/^\d+$/.test(nameOrId) ? all.find((r) => r.id === Number(nameOrId)) : undefined);
  }

  put(rec: DomainRecord): void {
    fs.mkdirSync(this.domainsDir, { recursive: true });
    const target = this.recordPath(rec.name);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rec) + "\n");
    fs.renameSync(tmp, target);
  }

  remove(name: string): void {
    fs.rmSync(this.recordPath(name), { force: true });
  }

  /** Next domain id: 1, 2, 3 ... since boot (Domain-0 is 0). */
  allocateId(): number {
    const file = path.join(this.dir, "next-id");
    let next = 1;
    try {
      next = Number(fs.readFileSync(file, "utf8").trim()) || 1;
    } catch {
      /* first domain since boot */
    }
    fs.writeFileSync(file, `${next + 1}\n`);
    return next;
  }
}

/**
 * What a record becomes given which processes still live: the same record, a repaired one (an outgoing
 * migration whose xm died before stopping the guest is running again), or undefined to drop it.
 */
export function pruneRecord(rec: DomainRecord, alive: (pid: number, start?: number) => boolean = isProcessAlive): DomainRecord | undefined {
  const ownerAlive = rec.ownerPid !== undefined && alive(rec.ownerPid, rec.ownerStart);
  if (ownerAlive) return rec;
  const guestAlive = rec.pid > 0 && alive(rec.pid, rec.pidStart);
  if (rec.state === "migrating") return undefined;
  if (!guestAlive) return undefined;
  if (rec.state === "migrating-out" || rec.ownerPid !== undefined) {
    return { ...rec, state: "running", ownerPid: undefined, ownerStart: undefined };
  }
  return rec;
}
