// One lab server: its disk (overlay upper dir), its device nodes, its sshd config, and its processes.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { killCgroup, serverCgroupDir, storageFaultCgroupDir, ensureCgroup, cgroupPids, dom0CgroupDir, guestsCgroupDir } from "./cgroup";
import { LabInfo, LabServer, layout, SERVER_IDENTITY, ServerIdentity } from "./layout";
import { REAL_DIR, STANDINS } from "./standins/manifest";
import { ensureHwWatchdogDevice } from "./hw-watchdog-control";
import { preparePartitions } from "./devices";

/** Root of the package (holds dist/ and lab/server-boot.sh). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

const BASE_DEVICES: [string, number, number, string][] = [
  ["null", 1, 3, "666"],
  ["zero", 1, 5, "666"],
  ["full", 1, 7, "666"],
  ["random", 1, 8, "666"],
  ["urandom", 1, 9, "666"],
  ["tty", 5, 0, "666"],
  // FUSE, as on any Linux server (`lab storage-loss` mounts its passthrough in the server's namespace with it).
  ["fuse", 10, 229, "666"],
];

/** Like fs.existsSync, but true for a dangling symlink too (dev/ptmx points into a devpts mounted only at boot). */
function present(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a server path lands in its upper dir. The host's own symlinks are followed first (Debian's /sbin is a link
 * to usr/sbin): writing through /sbin as a real directory would hide every other tool the link leads to.
 */
function upperPath(root: string, file: string): string {
  let dir = path.dirname(file);
  try {
    dir = fs.realpathSync(dir);
  } catch {
    /* not on the host: the server's own directory */
  }
  return path.join(root, dir, path.basename(file));
}

function writeFileIn(root: string, file: string, content: string, mode = 0o644): void {
  const target = upperPath(root, file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, content, { mode });
  fs.chmodSync(target, mode);
}

/** Makes the server's disk and config on first use; refreshes the stand-in wrappers every time. */
export function prepareServer(info: LabInfo, server: LabServer): void {
  const dir = info.dir;
  const name = server.name;
  for (const d of [layout.serverUpper(dir, name), layout.serverWork(dir, name), layout.serverRoot(dir, name), layout.serverDev(dir, name)]) {
    fs.mkdirSync(d, { recursive: true });
  }
  const dev = layout.serverDev(dir, name);
  for (const [node, major, minor, mode] of BASE_DEVICES) {
    const p = path.join(dev, node);
    if (!fs.existsSync(p)) execFileSync("mknod", ["-m", mode, p, "c", String(major), String(minor)]);
  }
  if (!present(path.join(dev, "ptmx"))) fs.symlinkSync("pts/ptmx", path.join(dev, "ptmx"));
  for (const [link, target] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"]]) {
    if (!present(path.join(dev, link))) fs.symlinkSync(target, path.join(dev, link));
  }
  // /dev/watchdog: the hardware watchdog's device (a FIFO read by the server's timer on the host).
  ensureHwWatchdogDevice(dir, name);
  preparePartitions(dir, name);
  if (!fs.existsSync(layout.serverDisks(dir, name))) fs.writeFileSync(layout.serverDisks(dir, name), "[]\n");

  const hostKey = path.join(layout.serverDir(dir, name), "ssh_host_ed25519_key");
  fs.writeFileSync(
    path.join(layout.serverDir(dir, name), "sshd_config"),
    [
      `ListenAddress ${server.address}:${server.port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(layout.keysDir(dir), "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "PidFile /run/sshd.pid",
      "UseDNS no",
      // The default, stated: the SSH layer must stay below it.
      "MaxSessions 10",
      "MaxStartups 100:30:200",
      "LogLevel ERROR",
      "Subsystem sftp internal-sftp",
      // Every session through the wrapper: it is what `lab lose-answers` uses to cut a connection after the
      // command ran (a test of a file when no answers are to be lost, then exec).
      `ForceCommand exec /bin/sh ${shQuote(path.join(PROJECT_ROOT, "lab", "session-wrapper.sh"))} ${shQuote(dir)} ${shQuote(name)}`,
      "",
    ].join("\n"),
  );

  const upper = layout.serverUpper(dir, name);
  const identity: ServerIdentity = { name, address: server.address, labDir: dir };
  writeFileIn(upper, SERVER_IDENTITY, JSON.stringify(identity, null, 2) + "\n");
  writeFileIn(upper, "/etc/hostname", name + "\n");
  // EL5 kept /etc/mtab as a regular file maintained by mount(8); the lab's mount stand-in does the same.
  const mtab = path.join(upper, "etc/mtab");
  if (!fs.existsSync(mtab) || fs.lstatSync(mtab).isSymbolicLink()) {
    fs.rmSync(mtab, { force: true });
    writeFileIn(upper, "/etc/mtab", "");
  }
  for (const d of ["/etc/ocfs2", "/etc/sysconfig", "/etc/ovs", "/usr/lib/ovs", "/OVS", "/var/log", "/etc/rc.d/rc0.d", "/etc/rc.d/rc6.d"]) {
    fs.mkdirSync(path.join(upper, d), { recursive: true });
  }
  if (!fs.existsSync(path.join(upper, "etc/fstab"))) {
    writeFileIn(upper, "/etc/fstab", "# /etc/fstab of lab server " + name + "\nproc /proc proc defaults 0 0\n");
  }
  // root's own shell start-up, not the host's (whose .bashrc may run slow tool set-ups on every ssh command).
  if (!fs.existsSync(path.join(upper, "root/.bashrc"))) {
    writeFileIn(upper, "/root/.bashrc", "# .bashrc of a lab server\n[ -f /etc/bashrc ] && . /etc/bashrc\n");
    writeFileIn(upper, "/root/.profile", "# .profile of a lab server\n[ -f ~/.bashrc ] && . ~/.bashrc\n");
  }
  // The non-root administrator that logs in with the lab key and uses sudo.
  addSudoUser(upper, info.sudoUser);

  const node = info.runtime.node;
  for (const s of STANDINS) {
    if (s.realCopy) {
      const real = upperPath(upper, path.join(REAL_DIR, path.basename(s.realCopy)));
      fs.mkdirSync(path.dirname(real), { recursive: true });
      fs.copyFileSync(s.realCopy, real);
      fs.chmodSync(real, 0o755);
    }
    const script = path.join(info.runtime.dist, "lab", "standins", `${s.script}.js`);
    writeFileIn(upper, s.path, `#!/bin/sh\nexec ${shQuote(node)} ${shQuote(script)} "$@"\n`, 0o755);
  }
  // ovm-ha itself (the agent runs on every server): the project's CLI with the lab's Node.
  writeFileIn(upper, "/usr/bin/ovm-ha", `#!/bin/sh\nexec ${shQuote(node)} ${shQuote(path.join(info.runtime.dist, "cli", "main.js"))} "$@"\n`, 0o755);
}

function shQuote(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

function addSudoUser(upper: string, user: string): void {
  const etc = path.join(upper, "etc");
  const passwdFile = fs.existsSync(path.join(etc, "passwd")) ? path.join(etc, "passwd") : "/etc/passwd";
  const passwd = fs.readFileSync(passwdFile, "utf8");
  if (!passwd.split("\n").some((l) => l.startsWith(user + ":"))) {
    writeFileIn(upper, "/etc/passwd", passwd.replace(/\n?$/, "\n") + `${user}:x:1500:1500:ovm-ha lab admin:/home/${user}:/bin/sh\n`);
    const groupFile = fs.existsSync(path.join(etc, "group")) ? path.join(etc, "group") : "/etc/group";
    writeFileIn(upper, "/etc/group", fs.readFileSync(groupFile, "utf8").replace(/\n?$/, "\n") + `${user}:x:1500:\n`);
    const shadowFile = fs.existsSync(path.join(etc, "shadow")) ? path.join(etc, "shadow") : "/etc/shadow";
    // '*' = no password: key login only (a '!' would lock the account and sshd would refuse it).
    writeFileIn(upper, "/etc/shadow", fs.readFileSync(shadowFile, "utf8").replace(/\n?$/, "\n") + `${user}:*:19000:0:99999:7:::\n`, 0o640);
    fs.mkdirSync(path.join(upper, "home", user), { recursive: true });
    fs.chownSync(path.join(upper, "home", user), 1500, 1500);
  }
  writeFileIn(upper, `/etc/sudoers.d/${user}`, `${user} ALL=(ALL) NOPASSWD: ALL\n`, 0o440);
}

/** Power on: a new mount namespace in the server's dom0 cgroup, boot stand-in, then sshd in the foreground. */
export function bootServer(info: LabInfo, server: LabServer): number {
  // Dom0 (sshd and all it starts) and the guests get leaves of their own: `lab hang` freezes dom0 only.
  const cg = dom0CgroupDir(info.slot, server.name);
  ensureCgroup(cg);
  ensureCgroup(guestsCgroupDir(info.slot, server.name));
  const log = fs.openSync(layout.serverLog(info.dir, server.name), "a");
  const bootScript = path.join(PROJECT_ROOT, "lab", "server-boot.sh");
  // sh moves itself into the cgroup before unshare, so everything the server ever runs is inside it.
  const child = spawn(
    "/bin/sh",
    ["-c", 'echo $$ > "$1/cgroup.procs" && shift && exec unshare --mount --uts --propagation private -- "$@"', "enter", cg,
      "/bin/sh", bootScript, info.dir, server.name, PROJECT_ROOT, info.runtime.node],
    { detached: true, stdio: ["ignore", log, log] },
  );
  fs.closeSync(log);
  child.unref();
  fs.writeFileSync(layout.serverPid(info.dir, server.name), String(child.pid));
  return child.pid!;
}

/** Waits until the server's sshd answers with its SSH banner. */
export async function waitForSsh(server: LabServer, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect({ host: server.address, port: server.port });
        const timer = setTimeout(() => { sock.destroy(); reject(new Error("no banner")); }, 1000);
        sock.once("data", (d) => {
          clearTimeout(timer);
          sock.destroy();
          if (d.toString().startsWith("SSH-")) resolve(); else reject(new Error("not ssh: " + d.toString().slice(0, 40)));
        });
        sock.once("error", (e) => { clearTimeout(timer); reject(e); });
      });
      return;
    } catch (e) {
      lastError = (e as Error).message;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let tail = "";
  if (logFile && fs.existsSync(logFile)) tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  throw new Error(`lab server ${server.name} (${server.address}:${server.port}) did not start sshd within ${timeoutMs} ms (${lastError})${tail ? "\nits console:\n" + tail : ""}`);
}

export async function killServer(info: LabInfo, name: string): Promise<void> {
  // `lab storage-loss` passthroughs first: a process waiting on a FUSE answer dies only once it gets one.
  await killCgroup(storageFaultCgroupDir(info.slot, name));
  await killCgroup(serverCgroupDir(info.slot, name));
}

export function serverIsRunning(info: LabInfo, name: string): boolean {
  return cgroupPids(serverCgroupDir(info.slot, name)).length > 0;
}

/** Pid of a process inside the server's mount namespace (its sshd), for nsenter. */
export function serverNamespacePid(info: LabInfo, name: string): number {
  const pid = Number(fs.readFileSync(layout.serverPid(info.dir, name), "utf8"));
  if (!pid || !fs.existsSync(`/proc/${pid}`)) throw new Error(`lab server ${name} is not running`);
  return pid;
}
