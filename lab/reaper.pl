#!/usr/bin/perl
# The first process of a lab server, like init: a child subreaper, so that guests and daemons orphaned inside the
# server are reaped here (the sandbox's pid 1 may never reap them, leaving zombies that look alive), then it runs
# the given command (sshd) and lives as long as it does.
use strict;
use warnings;
use POSIX ":sys_wait_h";
# prctl(PR_SET_CHILD_SUBREAPER, 1) — syscall 157 on x86_64.
syscall(157, 36, 1, 0, 0, 0) == 0 or warn "reaper: could not become a child subreaper: $!\n";
my $main = fork();
die "reaper: fork failed: $!\n" unless defined $main;
if ($main == 0) { exec { $ARGV[0] } @ARGV or die "reaper: exec $ARGV[0] failed: $!\n"; }
$SIG{TERM} = sub { kill 'TERM', $main; };
while (1) {
  my $pid = waitpid(-1, 0);
  last if $pid == -1 && !$!{EINTR};
  exit(($? >> 8) || 0) if $pid == $main;
}
