#!/usr/bin/python3
# `lab storage-loss`: a FUSE passthrough mounted over one shared-storage path inside ONE lab server's mount
# namespace (lab/storage-loss.ts starts it), so only that server loses its storage. Every operation first reads
# the fault's mode file:
#   ok    passes through to BACKING (the same storage, bound aside before this mount hid it);
#   fail  fails with EIO (reads and writes alike, as a dead iSCSI/SAN path does once the SCSI layer gives up);
#   hang  blocks until the mode changes, like NFS `hard` mounts or iSCSI with no replacement timeout: the caller
#         sits in the kernel (state D) waiting for our answer. When the mode goes back to ok, the waiting
#         operations complete, as I/O does when a path comes back.
# No attribute or entry caching (timeouts 0): every access reaches this process, so the fault is seen at once.
# Usage: storage-fuse.py MODEFILE BACKING MOUNTPOINT
import errno
import json
import os
import sys
import time

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:
    from fuse import FUSE, FuseOSError, Operations

MODE_FILE, BACKING, MOUNTPOINT = sys.argv[1:4]


def mode():
    try:
        with open(MODE_FILE) as f:
            return json.load(f).get("mode", "ok")
    except (OSError, ValueError):
        return "ok"


def gate():
    while True:
        m = mode()
        if m == "fail":
            raise FuseOSError(errno.EIO)
        if m != "hang":
            return
        time.sleep(0.05)


class Passthrough(Operations):
    use_ns = True

    def _p(self, path):
        return os.path.join(BACKING, path.lstrip("/"))

    def __call__(self, op, *args):
        if op not in ("init", "destroy"):
            gate()
        try:
            return super().__call__(op, *args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def access(self, path, amode):
        if not os.access(self._p(path), amode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, m):
        os.chmod(self._p(path), m)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def create(self, path, m, fi=None):
        return os.open(self._p(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, m)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return os.fdatasync(fh) if datasync else os.fsync(fh)

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        out = {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_ino")}
        for k in ("st_atime", "st_mtime", "st_ctime"):
            out[k] = getattr(st, k + "_ns")
        return out

    def link(self, target, source):
        os.link(self._p(source), self._p(target))

    def mkdir(self, path, m):
        os.mkdir(self._p(path), m)

    def mknod(self, path, m, dev):
        os.mknod(self._p(path), m, dev)

    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def readlink(self, path):
        return os.readlink(self._p(path))

    def release(self, path, fh):
        os.close(fh)

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def statfs(self, path):
        sv = os.statvfs(self._p(path))
        return {k: getattr(sv, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def symlink(self, target, source):
        os.symlink(source, self._p(target))

    def truncate(self, path, length, fh=None):
        if fh is not None:
            os.ftruncate(fh, length)
        else:
            os.truncate(self._p(path), length)

    def unlink(self, path):
        os.unlink(self._p(path))

    def utimens(self, path, times=None):
        os.utime(self._p(path), ns=times) if times else os.utime(self._p(path))

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)


if __name__ == "__main__":
    FUSE(Passthrough(), MOUNTPOINT, foreground=True, allow_other=True, nothreads=False,
         nonempty=True, entry_timeout=0, attr_timeout=0, negative_timeout=0, fsname="ovm-lab-storage")
