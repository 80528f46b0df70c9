// Xen's vm.cfg (Python assignments, evaluated by xm) from templates/vm.cfg.hbs. Every string is emitted as
// an escaped Python literal; the schema grammars keep names, paths and bridges free of quotes anyway.
import { ABSOLUTE_PATH_RE } from "../schemas/common";
import { BRIDGE_RE, GUEST_NAME_RE, KnownGuestInputs, ON_CRASH } from "../schemas/guest";
import { RenderError } from "./escape";
import { renderTemplate } from "./template";

export interface VmCfgModel {
  name: string;
  memoryMB: number;
  vcpus: number;
  imagePath: string;
  bridge: string;
  /** Without a MAC Xen picks a random one at every start; the provider should fix one (see outputs). */
  mac?: string;
  onCrash: (typeof ON_CRASH)[number];
}

/** Where a guest's new image lives: the Oracle VM 2 layout /OVS/running_pool/<name>/System.img. */
export function defaultImagePath(name: string, repository = "/OVS"): string {
  return `${repository}/running_pool/${name}/System.img`;
}

export function vmCfgPath(name: string, repository = "/OVS"): string {
  return `${repository}/running_pool/${name}/vm.cfg`;
}

/** The model from checked Guest inputs; `mac` overrides the input (a MAC the provider generated and kept). */
export function vmCfgModel(inputs: KnownGuestInputs, opts: { repository?: string; mac?: string } = {}): VmCfgModel {
  return {
    name: inputs.name,
    memoryMB: inputs.memory,
    vcpus: inputs.vcpus,
    imagePath: inputs.disk.path ?? defaultImagePath(inputs.name, opts.repository),
    bridge: inputs.network.bridge,
    mac: opts.mac ?? inputs.network.mac,
    onCrash: inputs.onCrash,
  };
}

const MAC_RE = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;

export function renderVmCfg(model: VmCfgModel): string {
  // disk/vif entries are comma- and '='-separated lists inside the string: their parts must not hold either.
  if (!GUEST_NAME_RE.test(model.name)) throw new RenderError(`vm.cfg: guest name ${JSON.stringify(model.name)} is not 1..63 of [A-Za-z0-9_-]`);
  if (!ABSOLUTE_PATH_RE.test(model.imagePath)) throw new RenderError(`vm.cfg: image path ${JSON.stringify(model.imagePath)} is not a plain absolute path`);
  if (!BRIDGE_RE.test(model.bridge)) throw new RenderError(`vm.cfg: bridge ${JSON.stringify(model.bridge)} is not an interface name`);
  if (model.mac !== undefined && !MAC_RE.test(model.mac)) throw new RenderError(`vm.cfg: MAC ${JSON.stringify(model.mac)} is not xx:xx:xx:xx:xx:xx`);
  if (!(ON_CRASH as readonly string[]).includes(model.onCrash)) throw new RenderError(`vm.cfg: on_crash ${JSON.stringify(model.onCrash)} is not one of ${ON_CRASH.join(", ")}`);
  const vif = model.mac === undefined ? `bridge=${model.bridge}` : `bridge=${model.bridge},mac=${model.mac.toUpperCase()}`;
  return renderTemplate("vm.cfg.hbs", {
    name: model.name,
    memory: model.memoryMB,
    vcpus: model.vcpus,
    disks: [`file:${model.imagePath},xvda,w`],
    vifs: [vif],
    onCrash: model.onCrash,
  });
}
