// Test helper: one lab per test file (start in before(), stop in after()).
import { LabInfo } from "../../lab/layout";
import type { XendFault, LoseAt } from "../../lab/faults";
import type { CheckOptions, CheckResult } from "../../lab/check";
export type { LabInfo, XendFault, LoseAt, CheckOptions, CheckResult };
/** `hang` freezes dom0 only (guests run on); `hang-machine` freezes the guests too. */
export type Fault = "crash" | "crash-silent" | "hang" | "hang-machine" | "partition" | "heal" | "power-off" | "power-on" | "shutdown";
export interface TestLab {
  info: LabInfo;
  dir: string;
  /** Source address the watchdog must bind (its SSH `localAddress`), so `partitionFrom` can cut it alone. */
  watchdogAddress: string;
  /** Runs `ovm-ha lab <fault> SERVER` semantics in-process. */
  fault(fault: Fault, server: string): Promise<void>;
  /** `lab partition SERVER --from ADDRESS`: only the traffic between the server and that address (or server) is cut. */
  partitionFrom(server: string, from: string): Promise<void>;
  /** `lab xend SERVER down|slow MS|up` (undefined = up). */
  xend(server: string, fault: XendFault | undefined): Promise<void>;
  /** `lab lose-answers SERVER N [--at start|end]`. */
  loseAnswers(server: string, count: number, at?: LoseAt): Promise<void>;
  /** Runs a command as root inside a server's namespace directly (not over SSH): for test setup/inspection. */
  inServer(server: string, argv: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /**
   * The split-brain checker's verdict. Without `guests`, the expected guests are the HA guests of the records on
   * the shared storage; it never passes on nothing (no expected guest, or one without a run record, fails).
   */
  check(opts?: CheckOptions): Promise<{ ok: boolean; report: string; result: CheckResult }>;
  down(): Promise<void>;
}
export { startTestLab } from "./lab-impl";
