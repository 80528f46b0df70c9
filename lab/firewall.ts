// Network partitions of lab servers: one nftables table per lab, with a set of partitioned addresses whose packets
// are dropped in both directions, and a set of cut address pairs (`lab partition SERVER --from ADDRESS`): only the
// traffic between those two addresses is dropped, everyone else still reaches both. Dropped (not rejected), so that a partitioned server looks like a real one
// behind a cut cable: connections time out rather than fail fast.
import { execFileSync } from "child_process";

const tableName = (slot: number) => `ovm_ha_lab_${slot}`;

function nft(script: string): void {
  execFileSync("nft", ["-f", "-"], { input: script, stdio: ["pipe", "ignore", "pipe"] });
}

export function installFirewall(slot: number): void {
  const t = tableName(slot);
  removeFirewall(slot);
  nft(`table inet ${t} {
  set partitioned { type ipv4_addr; }
  set cut { type ipv4_addr . ipv4_addr; }
  chain input { type filter hook input priority -10; policy accept; ip saddr @partitioned drop; ip daddr @partitioned drop; ip saddr . ip daddr @cut drop; }
  chain output { type filter hook output priority -10; policy accept; ip saddr @partitioned drop; ip daddr @partitioned drop; ip saddr . ip daddr @cut drop; }
}
`);
}

export function removeFirewall(slot: number): void {
  try {
    execFileSync("nft", ["delete", "table", "inet", tableName(slot)], { stdio: "ignore" });
  } catch {
    /* not there: nothing to remove */
  }
}

export function setPartitioned(slot: number, address: string, partitioned: boolean): void {
  const op = partitioned ? "add" : "delete";
  try {
    nft(`${op} element inet ${tableName(slot)} partitioned { ${address} }\n`);
  } catch (e) {
    // Deleting an address that is not in the set is not an error for `heal`.
    if (partitioned) throw e;
  }
}

/** Cuts (or restores) the traffic between two addresses, both ways. */
export function setCut(slot: number, a: string, b: string, cut: boolean): void {
  const op = cut ? "add" : "delete";
  try {
    nft(`${op} element inet ${tableName(slot)} cut { ${a} . ${b}, ${b} . ${a} }\n`);
  } catch (e) {
    if (cut) throw e;
  }
}
