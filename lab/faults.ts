// Per-server fault switches kept in the shared lab dir (LABDIR/servers/NAME/faults/), so that the host sets them
// and the stand-ins and the sshd session wrapper inside the server read them: xend down or slow, and answers to be
// lost. Power cycles clear them (a reboot restarts xend; a lost-answer count belongs to the running sshd).
import * as fs from "fs";
import * as path from "path";

export type XendFault =
  /** xend is not running: every xm command fails as the real one does. */
  | { mode: "down" }
  /**
   * xend is busy: each request is handled `ms` late. With `stale`, the request is handled at once and only its
   * answer is held back `ms`: the answer then describes the world as it was when it was asked (overtaken).
   */
  | { mode: "slow"; ms: number; stale?: boolean };

export function faultsDir(labDir: string, server: string): string {
  return path.join(labDir, "servers", server, "faults");
}

export const faultFiles = {
  xend: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "xend.json"),
  /** Commands still to lose: a decimal count, decremented by lab/session-wrapper.sh under flock. */
  loseAnswers: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "lose-answers"),
  /** When to cut: "end" (after the command ended: its answer is lost) or "start" (while it still runs). */
  loseAt: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "lose-at"),
  /** Only commands whose text contains this count (empty: every command), so a test can aim at one command. */
  loseMatch: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "lose-match"),
  /** `slow --stale`: one line `<epoch ms> <xm argv>` per answer being held back (written once it was handled). */
  xendHeld: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "xend-held.log"),
  /** One line per command whose answer was lost: `<epoch ms> <exit code> <command>` (see session-wrapper.sh). */
  lostLog: (labDir: string, server: string) => path.join(faultsDir(labDir, server), "lost-answers.log"),
};

export function readXendFault(labDir: string, server: string): XendFault | undefined {
  try {
    return JSON.parse(fs.readFileSync(faultFiles.xend(labDir, server), "utf8")) as XendFault;
  } catch {
    return undefined;
  }
}

export function writeXendFault(labDir: string, server: string, fault: XendFault | undefined): void {
  const file = faultFiles.xend(labDir, server);
  if (!fault) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(fault) + "\n");
  fs.renameSync(tmp, file);
}

export type LoseAt = "start" | "end";

/** Arms the next `count` commands of the server to lose their answers (0 disarms). */
export function setLoseAnswers(labDir: string, server: string, count: number, at: LoseAt = "end", match = ""): void {
  if (match.includes("\n")) throw new Error(`lose-answers --match must be one line, got ${JSON.stringify(match)}`);
  const dir = faultsDir(labDir, server);
  fs.mkdirSync(dir, { recursive: true });
  // The wrapper runs as the logged-in user (the sudo user too) and must decrement the count.
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(faultFiles.loseAt(labDir, server), at + "\n", { mode: 0o644 });
  fs.writeFileSync(faultFiles.loseMatch(labDir, server), match, { mode: 0o644 });
  const file = faultFiles.loseAnswers(labDir, server);
  fs.writeFileSync(file, count > 0 ? `${count}\n` : "", { mode: 0o666 });
  fs.chmodSync(file, 0o666);
  if (!fs.existsSync(faultFiles.lostLog(labDir, server))) fs.writeFileSync(faultFiles.lostLog(labDir, server), "", { mode: 0o666 });
  fs.chmodSync(faultFiles.lostLog(labDir, server), 0o666);
}

export function loseAnswersLeft(labDir: string, server: string): number {
  try {
    return Number(fs.readFileSync(faultFiles.loseAnswers(labDir, server), "utf8").trim() || "0");
  } catch {
    return 0;
  }
}

export interface LostAnswer {
  at: number;
  /** Exit code of the command, or undefined when the cut came at its start (it may still run). */
  exitCode?: number;
  command: string;
}

export function lostAnswers(labDir: string, server: string): LostAnswer[] {
  let text = "";
  try {
    text = fs.readFileSync(faultFiles.lostLog(labDir, server), "utf8");
  } catch {
    return [];
  }
  const out: LostAnswer[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+) (\d+|-) (.*)$/.exec(line);
    if (m) out.push({ at: Number(m[1]), exitCode: m[2] === "-" ? undefined : Number(m[2]), command: m[3] });
  }
  return out;
}

/** Every switch off (power cycle, `lab down`). */
export function clearFaults(labDir: string, server: string): void {
  writeXendFault(labDir, server, undefined);
  // `lab storage-loss` ends with the power cycle (its passthroughs die with the server's mount namespace).
  fs.rmSync(path.join(faultsDir(labDir, server), "storage.json"), { force: true });
  fs.rmSync(faultFiles.loseAnswers(labDir, server), { force: true });
}

/** Answers held back by `xend slow --stale` so far: [{at, argv}] (tests wait for "handled, answer pending"). */
export function heldXendAnswers(labDir: string, server: string): { at: number; argv: string }[] {
  let text = "";
  try {
    text = fs.readFileSync(faultFiles.xendHeld(labDir, server), "utf8");
  } catch {
    return [];
  }
  return text.split("\n").map((l) => /^(\d+) (.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => ({ at: Number(m[1]), argv: m[2] }));
}
