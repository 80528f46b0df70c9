// Memory accounting of the stand-in hypervisor: what Domain-0 keeps plus every domain's memory (including
// reservations for incoming migrations) is taken from the server's total.
import { LabServer } from "../layout";
import { DomainRecord } from "./domain-store";

export function usedByGuestsMb(records: DomainRecord[]): number {
  return records.reduce((sum, r) => sum + r.memory, 0);
}

export function freeMemoryMb(server: Pick<LabServer, "totalMemoryMb" | "dom0MemoryMb">, records: DomainRecord[]): number {
  return Math.max(0, server.totalMemoryMb - server.dom0MemoryMb - usedByGuestsMb(records));
}

/** xend's refusal when a domain does not fit (Xen 3.4 balloon.py with dom0 ballooning off). */
export function notEnoughMemoryMessage(needMb: number, freeMb: number): string {
  return (
    "Not enough free memory and enable-dom0-ballooning is False, so I cannot release any more.  " +
    `I need ${needMb * 1024} KiB but only have ${freeMb * 1024}.`
  );
}
