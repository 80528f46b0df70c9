// /etc/sysconfig/o2cb (a shell-sourced KEY=value file) from templates/o2cb.sysconfig.hbs.
import { CLUSTER_NAME_RE, KnownClusterInputs } from "../schemas/cluster";
import { RenderError } from "./escape";
import { renderTemplate } from "./template";

export interface O2cbSysconfigModel {
  clusterName: string;
  heartbeatThreshold: number;
  idleTimeoutMs: number;
  keepaliveDelayMs: number;
  reconnectDelayMs: number;
}

/** o2cb's configure prompts refuse values under these. */
export const O2CB_MINIMA = { heartbeatThreshold: 7, idleTimeoutMs: 5000, keepaliveDelayMs: 1000, reconnectDelayMs: 2000 } as const;

export function o2cbSysconfigModel(inputs: KnownClusterInputs): O2cbSysconfigModel {
  return { clusterName: inputs.name, ...inputs.o2cb };
}

export function renderO2cbSysconfig(model: O2cbSysconfigModel): string {
  if (!CLUSTER_NAME_RE.test(model.clusterName)) throw new RenderError(`o2cb: cluster name ${JSON.stringify(model.clusterName)} is not 1..16 of [0-9A-Za-z]`);
  for (const [key, min] of Object.entries(O2CB_MINIMA)) {
    const v = model[key as keyof typeof O2CB_MINIMA];
    if (!Number.isSafeInteger(v) || v < min) throw new RenderError(`o2cb: ${key} must be an integer >= ${min}, got ${v}`);
  }
  if (model.keepaliveDelayMs >= model.idleTimeoutMs) throw new RenderError("o2cb: keepaliveDelayMs must be less than idleTimeoutMs");
  return renderTemplate("o2cb.sysconfig.hbs", model);
}

/** The disk-heartbeat window after which a silent node self-fences (and peers call it dead): 2 s × (T − 1). */
export function selfFenceWindowMs(heartbeatThreshold: number): number {
  return 2000 * (heartbeatThreshold - 1);
}
