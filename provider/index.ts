// ovm-ha's Pulumi resources. Use them in a Pulumi TypeScript program; SSH credentials come from stack config
// (see README: sshUser, sshPrivateKey (secret), sshPassphrase (secret), sshKnownHosts ...).
// The resource classes are exported here as they land (SharedDisk, Cluster, ServerPool, Guest).
export {};
