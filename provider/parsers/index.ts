// Parsers for what Oracle VM servers print; pure functions, written from formats.md (no code shared with the lab).
export * from "./parse-error";
export * from "./text-lines";
export * from "./xm-list";
export * from "./xm-info";
export * from "./xm-messages";
export * from "./iscsiadm";
export * from "./proc-partitions";
export * from "./blkid";
export * from "./mounted-ocfs2";
export * from "./sfdisk";
export * from "./o2cb-status";
export * from "./cluster-conf";
export * from "./mtab";
export * from "./fstab";
export * from "./mkfs-ocfs2";
export * from "./vm-cfg";
