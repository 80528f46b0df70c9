// Test helper: one lab per test file (start in before(), stop in after()).
import { LabInfo } from "../../lab/layout";
export type { LabInfo };
export type Fault = "crash" | "hang" | "partition" | "heal" | "power-off" | "power-on" | "shutdown";
export interface TestLab {
  info: LabInfo;
  dir: string;
  /** Runs `ovm-ha lab <fault> SERVER` semantics in-process. */
  fault(fault: Fault, server: string): Promise<void>;
  /** Runs a command as root inside a server's namespace directly (not over SSH): for test setup/inspection. */
  inServer(server: string, argv: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /** The split-brain checker's verdict. */
  check(): Promise<{ ok: boolean; report: string }>;
  down(): Promise<void>;
}
export { startTestLab } from "./lab-impl";
