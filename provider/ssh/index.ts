// The SSH layer: every remote action goes through SshPool.exec with an argv (or a composed ShellScript).
export {
  quote,
  secret,
  SecretArg,
  renderCommand,
  maskSecrets,
  pipeline,
  allOf,
  firstOf,
  redirect,
  shellWithArgs,
  ShellScript,
  MASK,
} from "./quote";
export type { Arg, Argv, Command, RenderedCommand, Operator } from "./quote";
export {
  SshError,
  QuoteError,
  HostKeyMismatchError,
  UnknownHostKeyError,
  ConnectTimeoutError,
  ConnectionError,
  ConnectionLostError,
  ChannelOpenError,
  CommandTimeoutError,
  RemoteCommandError,
  AuthenticationError,
  PrivateKeyError,
  isNetworkFailure,
  isCredentialFailure,
  shortCommand,
  lastLines,
} from "./errors";
export { fingerprintOf, keyTypeOf } from "./fingerprint";
export { verifyHostKey } from "./host-keys";
export type { HostKeyPolicy } from "./host-keys";
export {
  parseKnownHosts,
  lookupKnownHost,
  knownHostsName,
  formatKnownHostsLine,
  readKnownHosts,
  appendKnownHost,
} from "./known-hosts";
export type { KnownHostEntry } from "./known-hosts";
export { ConnectionConfig } from "./connection";
export type { ServerEndpoint, SshCredentials, ExecResult } from "./connection";
export { SshPool } from "./pool";
export type { SshPoolOptions, ExecOptions, ServerStats, SshLogger } from "./pool";
