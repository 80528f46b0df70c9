// The server's watchdog device (/dev/watchdog: softdog, a hardware watchdog driver, or the lab's), through the
// Linux watchdog API without ioctls: open arms it, any write feeds it, a write of 'V' then close disarms it (the
// "magic close"); a close without 'V' (the agent dying) leaves it counting, so the server resets.
// Every call here is synchronous on an fd opened once: feeding never waits for libuv's thread pool, which hung
// storage I/O may fill.
import * as fs from "fs";

export class WatchdogDeviceError extends Error {}

export class WatchdogDevice {
  private fd: number | undefined;
  constructor(readonly path: string) {}

  /**
   * Opens (arms) the device. O_NONBLOCK: harmless on a character device, and on the lab's device (a FIFO) it
   * fails at once (ENXIO) instead of blocking when no timer listens.
   */
  open(): void {
    try {
      this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such device: load a watchdog driver (softdog: `modprobe softdog soft_margin=SECONDS`) or pass --device"
        : code === "EBUSY" ? "it is busy: another process (a watchdog daemon?) has it open; only one may"
        : code === "ENXIO" ? "no timer is listening on it"
        : (e as Error).message;
      throw new WatchdogDeviceError(`cannot open the watchdog device ${this.path}: ${why}`);
    }
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** A keepalive. Throws if the write fails (the caller logs it: a failed feed is a missed feed). */
  feed(): void {
    if (this.fd === undefined) throw new WatchdogDeviceError("the watchdog device is not open");
    fs.writeSync(this.fd, "1");
  }

  /** Magic close: 'V', then close. The timer stops; the server no longer resets when the agent is gone. */
  disarm(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.writeSync(fd, "V");
    fs.closeSync(fd);
  }
}
