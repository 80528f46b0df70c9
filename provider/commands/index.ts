// Command builders: argv arrays (never shell strings) with validation of every user-supplied value.
export * from "./command-argument-error";
export * from "./argument-rules";
export * from "./iscsiadm";
export * from "./mkfs-ocfs2";
export * from "./block-devices";
export * from "./xm";
export * from "./o2cb";
export * from "./ovs";
export * from "./mount";
