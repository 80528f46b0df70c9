import { absolutePath, domainName, hostName } from "./argument-rules";

/** `xm create CFG` (the config file path must be absolute). */
export function xmCreate(cfgPath: string): string[] {
  return ["xm", "create", absolutePath("cfgPath", cfgPath)];
}

/** `xm migrate [-l] DOM HOST`: live when `live`; silent on success. */
export function xmMigrate(domain: string, host: string, live: boolean): string[] {
  return ["xm", "migrate", ...(live ? ["-l"] : []), domainName("domain", domain), hostName("host", host)];
}

/** `xm shutdown [-w] DOM`: waits for the domain to stop when `wait`, else returns at once. */
export function xmShutdown(domain: string, wait: boolean): string[] {
  return ["xm", "shutdown", ...(wait ? ["-w"] : []), domainName("domain", domain)];
}

/** `xm destroy DOM`: immediate power-off. */
export function xmDestroy(domain: string): string[] {
  return ["xm", "destroy", domainName("domain", domain)];
}

/** `xm list` (all domains, Domain-0 included). */
export function xmList(): string[] {
  return ["xm", "list"];
}

/** `xm info` (host, CPUs, memory). */
export function xmInfo(): string[] {
  return ["xm", "info"];
}
