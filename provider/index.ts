// ovm-ha's Pulumi resources. Use them in a Pulumi TypeScript program; SSH credentials come from stack config
// (see README: sshUser, sshPrivateKey (secret), sshPassphrase (secret), sshKnownHosts ...).
export { SharedDisk, SharedDiskArgs } from "./resources/shared-disk";
export { Cluster, ClusterArgs } from "./resources/cluster";
export { ServerPool, ServerPoolArgs } from "./resources/server-pool";
export { Guest, GuestArgs } from "./resources/guest";
