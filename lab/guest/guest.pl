#!/usr/bin/perl
# A lab guest "VM": a process that proves it runs by appending `<server> <pid> <epoch_ms>` to a run log beside
# its disk image every 200 ms. The image is on shared storage, so every server's incarnations of one guest
# write to the same file, and the split-brain checker (lab/check.ts) can see two running at once.
# Usage: guest.pl SERVER RUNLOG NAME   (RUNLOG "-" = a guest with no file-backed disk: records nothing)
use strict;
use warnings;
use Time::HiRes qw(time sleep);

my ($server, $runlog, $name) = @ARGV;
die "usage: guest.pl SERVER RUNLOG NAME\n" unless defined $name;
$0 = "ovm-lab-guest $name";

my $stopping = 0;
# xm shutdown: stop recording at once (the guest is going down), exit shortly after, like a clean halt.
$SIG{TERM} = sub { $stopping = 1; };
$SIG{HUP} = 'IGNORE';

while (!$stopping) {
    if ($runlog ne '-') {
        # Open, append, close: each record reaches the shared file before the next; errors (storage gone)
        # are ignored as a guest with a dead disk would hang or carry on, and the checker must not see it.
        if (open(my $fh, '>>', $runlog)) {
            printf $fh "%s %d %d\n", $server, $$, int(time() * 1000) unless $stopping;
            close($fh);
        }
    }
    sleep(0.2);
}
sleep(0.3);
exit 0;
