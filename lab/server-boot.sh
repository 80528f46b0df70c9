#!/bin/sh
# Boots one lab server. Runs as the first process of a new mount namespace (started by `unshare --mount
# --propagation private`), already placed in the server's cgroup. Builds the server's root (an overlay of the
# host's / with the server's own upper dir), mounts its own /dev, /proc, /proc/partitions, /run and /tmp, runs
# the boot stand-in inside it, then becomes its sshd. Everything mounted here dies with the namespace.
# Usage: server-boot.sh LABDIR NAME PROJECT NODE
set -eu
LAB=$1; NAME=$2; PROJECT=$3; NODE=$4
S="$LAB/servers/$NAME"
R="$S/root"
hostname "$NAME"
mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$R"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R$LAB" "$R$PROJECT"
mount --bind "$LAB" "$R$LAB"
mount --bind "$PROJECT" "$R$PROJECT"
mount -o remount,bind,ro "$R$PROJECT"
mount --bind "$S/dev" "$R/dev"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t proc proc "$R/proc"
mount --bind "$S/partitions" "$R/proc/partitions"
mount --bind "$S/boot_id" "$R/proc/sys/kernel/random/boot_id"
mount --rbind /sys "$R/sys"
mkdir -p "$R/run/sshd" "$R/run/lock"
cd "$R"
exec chroot "$R" /bin/sh -c '
  "$1" "$2/lab/standins/boot.js" >>/var/log/ovm-lab-boot.log 2>&1 || echo "boot stand-in failed: see /var/log/ovm-lab-boot.log" >&2
  exec perl "$4" /usr/sbin/sshd -D -e -f "$3"
' boot "$NODE" "$PROJECT/dist" "$S/sshd_config" "$PROJECT/lab/reaper.pl"
