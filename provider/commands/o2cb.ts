import { CommandArgumentError } from "./command-argument-error";
import { absolutePath } from "./argument-rules";

/** The non-interactive actions of the o2cb init script (`configure` prompts, so it is not offered). */
export const O2CB_SERVICE_ACTIONS = ["status", "online", "offline", "start", "stop", "restart", "load", "unload", "enable"] as const;
export type O2cbServiceAction = (typeof O2CB_SERVICE_ACTIONS)[number];

function clusterName(value: string): string {
  if (typeof value !== "string" || !/^[0-9A-Za-z]{1,16}$/.test(value)) {
    throw new CommandArgumentError("cluster", value, "must be 1-16 characters of [0-9A-Za-z]");
  }
  return value;
}

/** `service o2cb ACTION [CLUSTER]` */
export function serviceO2cb(action: O2cbServiceAction, cluster?: string): string[] {
  if (!(O2CB_SERVICE_ACTIONS as readonly string[]).includes(action)) {
    throw new CommandArgumentError("action", action, `must be one of ${O2CB_SERVICE_ACTIONS.join(", ")}`);
  }
  return ["service", "o2cb", action, ...(cluster === undefined ? [] : [clusterName(cluster)])];
}

/** `o2cb [--config-file=F] list-cluster NAME`: prints that cluster in cluster.conf format. */
export function o2cbListCluster(cluster: string, configFile?: string): string[] {
  return ["o2cb", ...(configFile === undefined ? [] : [`--config-file=${absolutePath("configFile", configFile)}`]), "list-cluster", clusterName(cluster)];
}

/** `o2cb cluster-status [NAME]` (newer tools): exit 0 online, 1 offline. */
export function o2cbClusterStatus(cluster?: string): string[] {
  return ["o2cb", "cluster-status", ...(cluster === undefined ? [] : [clusterName(cluster)])];
}
