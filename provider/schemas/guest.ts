// Guest inputs: a Xen guest of a pool. Where it runs is observed state (read), never an input.
import { z } from "zod";
import { absolutePathSchema, ALWAYS, asRecord, checkWith, CheckResult, isUnknown, Known, parseKnown, serverNameSchema, serverSchema, unknownOr } from "./common";
import { poolNameSchema } from "./server-pool";

/**
 * Guest (Xen domain) names: 1..63 of [A-Za-z0-9_-], starting with a letter or digit. No dot, quote, space or
 * slash: the name is a Python string in vm.cfg, a directory under /OVS/running_pool and a shell word.
 */
export const GUEST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const guestNameSchema = z
  .string({ error: "must be a guest name string" })
  .regex(GUEST_NAME_RE, { error: "must be a guest name of 1..63 characters of [A-Za-z0-9_-], starting with a letter or digit" });

/** Linux interface names: 1..15 of [A-Za-z0-9_.-] (IFNAMSIZ), not '.' or '..'. */
export const BRIDGE_RE = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;

/** A unicast MAC (multicast bit clear), colon-separated; normalized to upper case as in vm.cfg examples. */
export const macSchema = z
  .string({ error: "must be a MAC address string" })
  .regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/, { error: "must be a MAC address xx:xx:xx:xx:xx:xx (hex), e.g. 00:16:3E:12:34:56 (Xen's OUI)" })
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0 && m !== "00:00:00:00:00:00", { error: "must be a unicast MAC address (lowest bit of the first octet clear, not all zeros)" })
  .transform((m) => m.toUpperCase());

export const ON_CRASH = ["destroy", "restart", "preserve", "rename-restart"] as const;

const intRange = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be ${what}: an integer ${min}..${max}` })
    .int({ error: `must be ${what}: an integer ${min}..${max}` })
    .min(min, { error: `must be ${what}: an integer ${min}..${max}` })
    .max(max, { error: `must be ${what}: an integer ${min}..${max}` });

/** The guest's pool: the ServerPool's name, master and members (so the guest can reach and place itself). */
export const guestPoolSchema = z
  .object({
    name: unknownOr(poolNameSchema),
    master: unknownOr(serverSchema),
    members: unknownOr(z.array(serverSchema, { error: "must be a list of servers {name, address, port}" })).default([]),
    /** The pool's HA flag (ServerPool output `ha`): HA applies only when the pool and the guest have it on. */
    ha: unknownOr(z.boolean({ error: "must be true or false" })).optional(),
    /** The pool's cluster root (ServerPool output `clusterRoot`): read finds the pool's HA record there. */
    clusterRoot: unknownOr(absolutePathSchema).optional(),
  })
  .strict();

/** Either an existing image (path) or a new sparse image of sizeMB at /OVS/running_pool/<name>/System.img. */
export const guestDiskSchema = z
  .object({
    path: unknownOr(absolutePathSchema).optional(),
    sizeMB: unknownOr(intRange(1, 16 * 1024 * 1024, "an image size in MB")).optional(),
  })
  .strict()
  .superRefine((raw, ctx) => {
    const d = asRecord(raw);
    if ((d.path === undefined) === (d.sizeMB === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: "must give exactly one of path (an existing image) or sizeMB (a new image)" });
    }
  }, ALWAYS);

const PREFERRED_MSG = 'must be "auto" or an ordered list of the pool\'s server names';

export const guestSchema = z
  .object({
    name: unknownOr(guestNameSchema),
    pool: unknownOr(guestPoolSchema),
    memory: unknownOr(intRange(32, 1024 * 1024, "the memory in MB")),
    vcpus: unknownOr(intRange(1, 128, "a number of virtual CPUs")),
    disk: unknownOr(guestDiskSchema),
    network: z
      .object({
        bridge: unknownOr(z.string({ error: "must be a bridge name string" }).regex(BRIDGE_RE, { error: "must be a bridge (interface) name of 1..15 of [A-Za-z0-9_.-]" })).default("xenbr0"),
        mac: unknownOr(macSchema).optional(),
      })
      .strict()
      .prefault({}),
    /** The guest's HA flag: it fails over only when its pool has HA on too. */
    ha: unknownOr(z.boolean({ error: "must be true or false" })).default(false),
    /** Where to restart on failover: "auto" (any server of the pool) or an ordered list of the pool's servers. */
    preferredServers: unknownOr(
      z.union(
        [
          z.literal("auto", { error: PREFERRED_MSG }),
          z.array(unknownOr(serverNameSchema), { error: PREFERRED_MSG }).min(1, { error: 'must list at least one server, or be "auto"' }),
        ],
        { error: PREFERRED_MSG },
      ),
    ).default("auto"),
    /** Failover order among guests: higher priorities restart first. */
    priority: unknownOr(intRange(0, 100, "a priority")).default(50),
    onCrash: unknownOr(z.enum(ON_CRASH, { error: "must be one of destroy, restart, preserve, rename-restart" })).default("restart"),
  })
  .strict()
  .superRefine((raw, ctx) => {
    const g = asRecord(raw);
    const prefs = g.preferredServers;
    if (!Array.isArray(prefs)) return;
    const seen = new Set<unknown>();
    prefs.forEach((p, i) => {
      if (typeof p !== "string" || isUnknown(p)) return;
      if (seen.has(p)) ctx.addIssue({ code: "custom", path: ["preferredServers", i], message: "must be unique: this server is already listed" });
      seen.add(p);
    });
    const pool = asRecord(g.pool);
    if (!Array.isArray(pool.members ?? []) || pool.master === undefined) return;
    const names = [asRecord(pool.master).name, ...((pool.members ?? []) as unknown[]).map((m) => asRecord(m).name)];
    if (!names.every((n) => typeof n === "string" && !isUnknown(n))) return;
    prefs.forEach((p, i) => {
      if (typeof p === "string" && !isUnknown(p) && !names.includes(p)) {
        ctx.addIssue({ code: "custom", path: ["preferredServers", i], message: `must be a server of pool ${String(pool.name)} (${names.join(", ")})` });
      }
    });
  }, ALWAYS);

export type GuestInputs = z.output<typeof guestSchema>;
export type KnownGuestInputs = Known<GuestInputs>;

/** Pulumi check for Guest. */
export function checkGuest(_olds: Record<string, unknown>, news: Record<string, unknown>): CheckResult<GuestInputs> {
  return checkWith(guestSchema, news);
}

export function parseGuestInputs(inputs: Record<string, unknown>): KnownGuestInputs {
  return parseKnown("Guest", guestSchema, inputs);
}
