// Text that Xen 3.4's `xm list` and `xm info` print (formats.md: header `%-40s %5s %5s %5s %10s %9s`, rows
// `%-40s %5s %5d %5d %10s %8.1f`, info lines `%-23s: value`).
import { DomainRecord, DomainState, domainName } from "./domain-store";

export interface ListRow {
  name: string;
  id: number;
  memory: number;
  vcpus: number;
  /** Six positions of `rbpscd`. */
  state: string;
  cpuSeconds: number;
}

const left = (s: string, w: number) => s.padEnd(w);
const right = (s: string, w: number) => s.padStart(w);

export function formatListHeader(): string {
  return `${left("Name", 40)} ${right("ID", 5)} ${right("Mem", 5)} ${right("VCPUs", 5)} ${right("State", 10)} ${right("Time(s)", 9)}`;
}

export function formatListRow(r: ListRow): string {
  return (
    `${left(r.name, 40)} ${right(String(r.id), 5)} ${right(String(Math.trunc(r.memory)), 5)} ` +
    `${right(String(Math.trunc(r.vcpus)), 5)} ${right(r.state, 10)} ${right(r.cpuSeconds.toFixed(1), 8)}`
  );
}

export function formatList(rows: ListRow[]): string {
  return [formatListHeader(), ...rows.map(formatListRow)].join("\n") + "\n";
}

/** The state column for a domain record; `guestStopped` is true when the process is SIGSTOPped. */
export function stateFlags(state: DomainState, guestStopped: boolean): string {
  switch (state) {
    case "running":
      return guestStopped ? "--p---" : "-b----";
    case "paused":
    case "migrating":
      return "--p---";
    case "shutdown":
      return "---s--";
    case "migrating-out":
      // Paused for a non-live migration (xc_save without -l), else running until its final suspend.
      return guestStopped ? "--p---" : "-b----";
  }
}

export function recordRow(rec: DomainRecord, stopped: boolean, cpu: number): ListRow {
  return { name: domainName(rec), id: rec.id, memory: rec.memory, vcpus: rec.vcpus, state: stateFlags(rec.state, stopped), cpuSeconds: cpu };
}

export interface InfoInput {
  host: string;
  nrCpus: number;
  totalMemoryMb: number;
  freeMemoryMb: number;
}

/** `xm info` of an Oracle VM 2.x server (Xen 3.4 on an x86_64 dom0); fixed values are plausible constants. */
export function formatInfo(i: InfoInput): string {
  const lines: [string, string | number][] = [
    ["host", i.host],
    ["release", "2.6.18-128.2.1.4.25.el5xen"],
    ["version", "#1 SMP Tue Mar 23 12:43:27 EDT 2010"],
    ["machine", "x86_64"],
    ["nr_cpus", i.nrCpus],
    ["nr_nodes", 1],
    ["cores_per_socket", i.nrCpus],
    ["threads_per_core", 1],
    ["cpu_mhz", 2400],
    ["hw_caps", "bfebfbff:20100800:00000000:00000140:0098e3fd:00000000:00000001:00000000"],
    ["virt_caps", "hvm"],
    ["total_memory", i.totalMemoryMb],
    ["free_memory", i.freeMemoryMb],
    ["node_to_cpu", i.nrCpus > 1 ? `node0:0-${i.nrCpus - 1}` : "node0:0"],
    ["node_to_memory", `node0:${i.freeMemoryMb}`],
    ["xen_major", 3],
    ["xen_minor", 4],
    ["xen_extra", ".0"],
    ["xen_caps", "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"],
    ["xen_scheduler", "credit"],
    ["xen_pagesize", 4096],
    ["platform_params", "virt_start=0xffff800000000000"],
    ["xen_changeset", "unavailable"],
    ["cc_compiler", "gcc version 4.1.2 20080704 (Red Hat 4.1.2-44)"],
    ["cc_compile_by", "mockbuild"],
    ["cc_compile_domain", "us.oracle.com"],
    ["cc_compile_date", "Tue Mar 23 12:10:50 EDT 2010"],
    ["xend_config_format", 4],
  ];
  return lines.map(([k, v]) => `${k.padEnd(23)}: ${v}`).join("\n") + "\n";
}
