// SharedDisk inputs: the storage every server of a pool mounts (OCFS2 on iSCSI or SAN, or an NFS export).
import { z } from "zod";
import {
  absolutePathSchema,
  ALWAYS,
  asRecord,
  checkUniqueServers,
  checkWith,
  CheckResult,
  devicePathSchema,
  ipAddressSchema,
  isHostOrAddress,
  isUnknown,
  parseKnown,
  portSchema,
  serverSchema,
  unknownOr,
  ValidationError,
  withoutProviderKey,
  Known,
} from "./common";
import { sizeSchema } from "./size";

export const SHARED_DISK_KINDS = ["iscsi", "san", "nfs"] as const;
export type SharedDiskKind = (typeof SHARED_DISK_KINDS)[number];

/** RFC 3720 names: iqn.YYYY-MM.reversed.domain[:anything of a-z0-9.:_-], or eui.<16 hex>; at most 223 bytes. */
export const IQN_RE = /^(?:iqn\.[0-9]{4}-(?:0[1-9]|1[0-2])\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[a-z0-9._:-]+)?|eui\.[0-9A-Fa-f]{16})$/;
export const iqnSchema = z
  .string({ error: "must be an iSCSI target name string" })
  .max(223, { error: "must be an iSCSI name of at most 223 bytes" })
  .regex(IQN_RE, { error: "must be an iSCSI target name: iqn.YYYY-MM.reversed.domain[:id] (lower case, id of [a-z0-9.:_-]) or eui.<16 hex digits>" });

/** OCFS2 volume label: passed to mkfs.ocfs2 -L and possibly fstab LABEL=, so a safe word shorter than 64 bytes. */
export const LABEL_RE = /^[A-Za-z0-9._-]{1,63}$/;

/** An OCFS2 volume UUID: 32 hex digits (mounted.ocfs2 -d) or 8-4-4-4-12 (blkid); kept as the user wrote it. */
export const volumeUuidSchema = z
  .string({ error: "must be an OCFS2 volume UUID string" })
  .regex(/^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/, {
    error: "must be an OCFS2 volume UUID: 32 hex digits as mounted.ocfs2 -d prints it, or blkid's 8-4-4-4-12 form",
  });

/** mkfs.ocfs2 parameters; defaults are the seed chapter's `-b 4K -C 4K -J size=64M -N 16` and label "ovsroot". */
export const ocfs2FormatSchema = z
  .object({
    label: unknownOr(
      z
        .string({ error: "must be a volume label string" })
        .regex(LABEL_RE, { error: "must be a volume label of 1..63 bytes of [A-Za-z0-9._-] (mkfs.ocfs2 refuses 64 bytes or more)" }),
    ).default("ovsroot"),
    blockSize: unknownOr(sizeSchema({ min: 512, max: 4096, powerOfTwo: true, allowed: "a block size of 512, 1K, 2K or 4K (a power of two 512..4096 bytes)" })).default(4096),
    clusterSize: unknownOr(sizeSchema({ min: 4096, max: 1024 * 1024, powerOfTwo: true, allowed: "a cluster size that is a power of two from 4K to 1M" })).default(4096),
    journalSize: unknownOr(sizeSchema({ min: 4 * 1024 * 1024, allowed: "a journal size of at least 4M (bytes or <n>K/M/G)" })).default(64 * 1024 * 1024),
    nodeSlots: unknownOr(
      z
        .number({ error: "must be a number of node slots: an integer 1..255" })
        .int({ error: "must be a number of node slots: an integer 1..255" })
        .min(1, { error: "must be a number of node slots: an integer 1..255" })
        .max(255, { error: "must be a number of node slots: an integer 1..255" }),
    ).default(16),
  })
  .strict();
export type Ocfs2FormatInput = z.output<typeof ocfs2FormatSchema>;

const common = {
  /** Where every server mounts the disk (the seed chapter's /OVS/remote). */
  mountPoint: unknownOr(absolutePathSchema).default("/OVS/remote"),
  /**
   * Mount the disk at mountPoint on every server (with fstab lines). false prepares the disk only (logged in,
   * partitioned, formatted): for a disk that a Cluster registers as its repository (ovs-makerepo mounts it at
   * /OVS/<UUID>, and a device is mounted once per server).
   */
  mount: unknownOr(z.boolean({ error: "must be true or false" })).default(true),
  servers: unknownOr(z.array(serverSchema, { error: "must be a list of servers {name, address, port}" }).min(1, { error: "must list at least one server" })),
};

/** Format-once disks: formatting happens only on a device without a file system unless `overwrite` is true. */
const formatOnce = {
  format: ocfs2FormatSchema.prefault({}),
  /** Create one partition spanning the device (and use <device>1) when the device has no partition table. */
  partition: unknownOr(z.boolean({ error: "must be true or false" })).default(true),
  /** Allow formatting over an existing file system (destroys its data). Preview shows turning it on as a replace. */
  overwrite: unknownOr(z.boolean({ error: "must be true or false" })).default(false),
  /**
   * The UUID of an existing OCFS2 volume to use as it is (its data kept): 32 hex digits as mounted.ocfs2 prints
   * it, or blkid's dashed form. A volume is adopted only by its identity (this, or the UUID this stack recorded),
   * never by a matching label: `ovsroot` is every Oracle VM pool's default.
   */
  adoptVolume: unknownOr(volumeUuidSchema).optional(),
};

export const iscsiSharedDiskSchema = z
  .object({
    kind: z.literal("iscsi"),
    portal: unknownOr(
      z
        .object({
          address: unknownOr(ipAddressSchema),
          port: unknownOr(portSchema).default(3260),
        })
        .strict(),
    ),
    /** The discovered targets to keep; every other node record of the portal is deleted. */
    targets: unknownOr(
      z
        .array(unknownOr(iqnSchema), { error: "must be a list of iSCSI target names" })
        .min(1, { error: "must select at least one iSCSI target" }),
    ),
    ...common,
    ...formatOnce,
  })
  .strict();

export const sanSharedDiskSchema = z
  .object({
    kind: z.literal("san"),
    /** A device every server already sees under the same name (e.g. a multipath alias). */
    device: unknownOr(devicePathSchema),
    ...common,
    ...formatOnce,
  })
  .strict();

/** `host:/path`; the host is a DNS name or an IPv4 address. */
export const nfsExportSchema = z
  .string({ error: "must be an NFS export string host:/path" })
  .refine(
    (s) => {
      const i = s.indexOf(":/");
      return i > 0 && isHostOrAddress(s.slice(0, i)) && absolutePathSchema.safeParse(s.slice(i + 1)).success;
    },
    { error: "must be an NFS export host:/path (host a DNS name or IPv4 address, path absolute of [A-Za-z0-9._@+-] segments)" },
  );

export const nfsSharedDiskSchema = z
  .object({
    kind: z.literal("nfs"),
    export: unknownOr(nfsExportSchema),
    ...common,
  })
  .strict();

function refineSharedDisk(raw: unknown, ctx: z.RefinementCtx): void {
  const value = asRecord(raw);
  checkUniqueServers(value.servers, ctx, ["servers"]);
  const slots = asRecord(value.format).nodeSlots;
  // Only a slot count that is valid on its own is compared (else one value would get two failures).
  if (Array.isArray(value.servers) && typeof slots === "number" && slots >= 1 && slots < value.servers.length) {
    ctx.addIssue({
      code: "custom",
      path: ["format", "nodeSlots"],
      message: `must be at least the number of servers that mount the volume (${value.servers.length})`,
    });
  }
  if (Array.isArray(value.targets)) {
    const seen = new Set<string>();
    value.targets.forEach((t, i) => {
      if (typeof t !== "string" || isUnknown(t)) return;
      if (seen.has(t)) ctx.addIssue({ code: "custom", path: ["targets", i], message: "must be unique: this target is already selected" });
      seen.add(t);
    });
  }
}

export const sharedDiskSchemas = {
  iscsi: iscsiSharedDiskSchema.superRefine(refineSharedDisk, ALWAYS),
  san: sanSharedDiskSchema.superRefine(refineSharedDisk, ALWAYS),
  nfs: nfsSharedDiskSchema.superRefine(refineSharedDisk, ALWAYS),
} as const;

export type IscsiSharedDiskInputs = z.output<typeof iscsiSharedDiskSchema>;
export type SanSharedDiskInputs = z.output<typeof sanSharedDiskSchema>;
export type NfsSharedDiskInputs = z.output<typeof nfsSharedDiskSchema>;
export type SharedDiskInputs = IscsiSharedDiskInputs | SanSharedDiskInputs | NfsSharedDiskInputs;
export type KnownSharedDiskInputs = Known<SharedDiskInputs>;

const kindSchema = z.enum(SHARED_DISK_KINDS, { error: "must be one of iscsi, san, nfs" });

/** Pulumi check for SharedDisk. `olds` is unused: nothing is carried over from earlier inputs. */
export function checkSharedDisk(_olds: Record<string, unknown>, news: Record<string, unknown>): CheckResult<SharedDiskInputs> {
  const input = withoutProviderKey(news);
  // The kind selects the schema; an unknown kind (preview) cannot be validated further.
  if (isUnknown(input.kind)) return { inputs: input, failures: [] };
  const kind = kindSchema.safeParse(input.kind);
  if (!kind.success) {
    return { inputs: input, failures: [{ property: "kind", reason: `must be one of iscsi, san, nfs; got ${JSON.stringify(input.kind) ?? "nothing"}` }] };
  }
  return checkWith(sharedDiskSchemas[kind.data], input);
}

/** For create/update: validated, defaults filled, no unknowns (throws ValidationError otherwise). */
export function parseSharedDiskInputs(inputs: Record<string, unknown>): KnownSharedDiskInputs {
  const kind = kindSchema.safeParse(inputs.kind);
  if (!kind.success) throw new ValidationError("SharedDisk", checkSharedDisk({}, inputs).failures);
  return parseKnown("SharedDisk", sharedDiskSchemas[kind.data], inputs) as KnownSharedDiskInputs;
}
