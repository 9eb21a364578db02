/**
 * The programs sandfarm runs inside a sandbox, as Perl source passed on the command line.
 *
 * Perl because perl-base is Essential on every Debian-family image (ours, python:*-slim and most
 * user images) and starts in ~2 ms. Only builtins are used: perl-base has no Time::HiRes (hence
 * /proc/uptime for the clock), and loading POSIX alone costs ~15 ms a call (measured here).
 * A shell wrapper cannot do what the exec helper must: after the command's shell exits, drain
 * exactly what it wrote and return at once even while background children still hold the pipes.
 */

/**
 * PID 1 of every sandbox. It reaps adopted orphans (so zombies never eat the pid limit), ignores
 * the usual termination signals, and exits when the TTL is over, which removes the container
 * (AutoRemove). The kernel never delivers a signal from inside the namespace to a PID 1 without a
 * handler for it, so `kill -9 -1` inside cannot take the sandbox down.
 *
 * argv: TTL seconds.
 */
export const KEEPER_SCRIPT = String.raw`
$0 = "sandfarm-keeper";
$SIG{CHLD} = sub { 1 while waitpid(-1, 1) > 0 };
$SIG{$_} = "IGNORE" for qw(TERM INT HUP QUIT USR1 USR2 PIPE);
my $end = time + $ARGV[0];
while ((my $left = $end - time) > 0) { sleep $left }
`;

/**
 * Running one command, shared by the one-shot helper and the runner. Output goes out as frames
 * on stdout: a tag byte, a big-endian u32 length, a payload. Tags: `o` a chunk of the command's
 * stdout, `e` of its stderr, `x` the final status as `key=value` pairs (exit, signal, timedOut,
 * outBytes, errBytes, oomBefore, oomAfter; or spawnFailed + errno). Output past the cap is read
 * and discarded so the command runs on unchanged.
 *
 * The command runs as `bash -c` in /testbed (or / if the model removed it), stdin /dev/null, in
 * its own process group, which the timeout kills whole with SIGKILL. When the shell exits, the
 * pipes are drained without blocking (everything it wrote is in the pipe by then) and a detached
 * drainer, reparented to the keeper, inherits whatever background children still hold, so they
 * neither hold the call open nor die of SIGPIPE on their next write. A command over Linux's
 * 128 KiB single-argument limit is written to a file that bash sources, which behaves like
 * `bash -c` ($0 is bash, no positional arguments).
 *
 * The wait for the shell's exit cannot rely on SIGCHLD alone: Perl runs a signal handler only at
 * its next safe point, so an exit that lands after the last one and before `select` starts to
 * sleep writes its wake byte only when that sleep ends, which was the command's whole timeout
 * (issue 19). So the wait never sleeps longer than a slice and asks `waitpid` on every wake. A
 * slice is a quarter of the time the command has run, from 10 ms to 100 ms: a lost wake-up
 * delays a trivial command by 10 ms and no command by more than 100 ms, while a long one costs
 * ten wakes a second (measured: 0.15% of a core under runc, 0.7% under gVisor).
 *
 * Every sandbox starts a runner, so it loads no module: EINTR is errno 4 (Linux) rather than
 * \$!{EINTR}, which loads Errno, and a read file's resolved path is the link of its open
 * descriptor rather than Cwd's abs_path (measured: 6.5 ms of CPU a start with both, 2 without).
 *
 * `SANDFARM_TEST_WAIT_STALL_MS`, for tests only: once the command's output has ended, stall
 * inside the statement that sleeps, after its safe point and before the syscall (the window
 * preemption opens under load), so an exit lands there every time.
 */
const RUN_COMMAND_CORE = String.raw`
use strict;
binmode STDOUT;
binmode STDIN;
$SIG{PIPE} = "IGNORE";
my ($wake_r, $wake_w);
pipe($wake_r, $wake_w) or die "sandfarm: pipe: $!";
$SIG{CHLD} = sub { syswrite($wake_w, "c") };
my $commands_run = 0;
my $test_stall_s = ($ENV{SANDFARM_TEST_WAIT_STALL_MS} || 0) / 1000;
sub emit {
  my ($tag, $data) = @_;
  my $buf = $tag . pack("N", length $data) . $data;
  my $off = 0;
  while ($off < length $buf) {
    my $n = syswrite(STDOUT, $buf, length($buf) - $off, $off);
    if (!defined $n) { next if $! == 4; exit 70; }
    $off += $n;
  }
}
sub now {
  if (open(my $u, "<", "/proc/uptime")) { my $l = <$u>; close $u; return $1 if $l =~ /^([\d.]+)/; }
  return time;
}
sub oom_kills {
  for my $p ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control") {
    if (open(my $f, "<", $p)) { while (<$f>) { if (/^oom_kill (\d+)/) { close $f; return $1; } } close $f; }
  }
  return -1;
}
sub run_command {
  my ($cmd, $timeout, $cap) = @_;
  $commands_run++;
  my $script;
  if (length($cmd) > 98304) {
    $script = "/tmp/.sandfarm-cmd-$$-$commands_run";
    open(my $f, ">", $script) or do { emit("x", "spawnFailed=1 errno=" . ($! + 0)); return; };
    binmode $f; print $f $cmd; close $f;
    $cmd = ". '$script'";
  }
  my $oom_before = oom_kills();
  my ($out_r, $out_w, $err_r, $err_w);
  pipe($out_r, $out_w) or do { emit("x", "spawnFailed=1 errno=" . ($! + 0)); return; };
  pipe($err_r, $err_w) or do { emit("x", "spawnFailed=1 errno=" . ($! + 0)); return; };
  my $start = now();
  my $pid = fork();
  if (!defined $pid) { emit("x", "spawnFailed=1 errno=" . ($! + 0)); return; }
  if ($pid == 0) {
    setpgrp(0, 0);
    $SIG{$_} = "DEFAULT" for qw(PIPE CHLD);
    open(STDIN, "<", "/dev/null");
    open(STDOUT, ">&", $out_w);
    open(STDERR, ">&", $err_w);
    chdir("/testbed") or chdir("/");
    exec("/bin/bash", "-c", $cmd) or exec("bash", "-c", $cmd);
    exit 127;
  }
  setpgrp($pid, $pid);
  close $out_w; close $err_w;
  my %open = (o => $out_r, e => $err_r);
  my %sent = (o => 0, e => 0);
  my %total = (o => 0, e => 0);
  my $pump = sub {
    my ($tag) = @_;
    my $n = sysread($open{$tag}, my $chunk, 65536);
    return if !defined $n && $! == 4;
    if (!$n) { close $open{$tag}; delete $open{$tag}; return; }
    $total{$tag} += $n;
    my $room = $cap - $sent{$tag};
    if ($room > 0) {
      $chunk = substr($chunk, 0, $room) if $n > $room;
      emit($tag, $chunk);
      $sent{$tag} += length $chunk;
    }
  };
  my $ready = sub {
    my ($wait) = @_;
    my $bits = "";
    vec($bits, fileno($open{$_}), 1) = 1 for keys %open;
    vec($bits, fileno($wake_r), 1) = 1;
    my $n = select(my $rout = $bits, undef, undef,
      $test_stall_s && !%open ? $wait + 0 * select(undef, undef, undef, $test_stall_s) : $wait);
    return () if $n <= 0;
    sysread($wake_r, my $junk, 64) if vec($rout, fileno($wake_r), 1);
    return grep { vec($rout, fileno($open{$_}), 1) } keys %open;
  };
  my ($status, $timed_out) = (undef, 0);
  my $deadline = $start + $timeout;
  while (!defined $status) {
    my $r = waitpid($pid, 1); # WNOHANG
    if ($r == $pid) { $status = $?; last; }
    my $left = $deadline - now();
    if ($left <= 0) {
      kill("KILL", -$pid);
      $timed_out = 1;
      waitpid($pid, 0);
      $status = $?;
      last;
    }
    my $slice = ($timeout - $left) / 4;
    $slice = $slice < 0.01 ? 0.01 : $slice > 0.1 ? 0.1 : $slice;
    $pump->($_) for $ready->($left < $slice ? $left : $slice);
  }
  # The shell is gone: what it wrote is already in the pipes. Take it without blocking.
  while (%open) {
    my @r = $ready->(0);
    last if !@r;
    $pump->($_) for @r;
  }
  if (%open) {
    # Fork twice so the drainer is the keeper's to reap, not a zombie of a long-lived runner.
    my $middle = fork();
    if (defined $middle && $middle == 0) {
      my $drainer = fork();
      if (defined $drainer && $drainer == 0) {
        open(STDIN, "<", "/dev/null"); open(STDOUT, ">", "/dev/null"); open(STDERR, ">", "/dev/null");
        setpgrp(0, 0);
        while (%open) {
          my $bits = "";
          vec($bits, fileno($open{$_}), 1) = 1 for keys %open;
          select(my $rout = $bits, undef, undef, undef);
          for my $tag (keys %open) {
            next if !vec($rout, fileno($open{$tag}), 1);
            my $n = sysread($open{$tag}, my $junk, 65536);
            if (defined $n && $n == 0) { close $open{$tag}; delete $open{$tag}; }
          }
        }
      }
      exit 0;
    }
    waitpid($middle, 0) if defined $middle;
    close $open{$_} for keys %open;
  }
  unlink $script if defined $script;
  my $exit = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
  emit("x", join(" ",
    "exit=$exit", "signal=" . ($status & 127), "timedOut=$timed_out",
    "outBytes=$total{o}", "errBytes=$total{e}",
    "oomBefore=$oom_before", "oomAfter=" . oom_kills()));
}
`;

/**
 * One command per `docker exec`: the fallback path.
 * argv: timeout seconds, cap bytes per stream, the command, and optionally the path of a file
 * holding the command instead (for commands over the argument limit; sourced, then removed).
 */
export const EXEC_HELPER_SCRIPT = String.raw`
$0 = "sandfarm-exec";
${RUN_COMMAND_CORE}
# A command the host already wrote to a file is sourced from there (like "bash -c": $0 is bash).
my $file = $ARGV[3];
run_command(defined $file ? ". '$file'" : $ARGV[2], $ARGV[0], $ARGV[1]);
unlink $file if defined $file;
`;

/**
 * The long-lived runner: one attached `docker exec` per sandbox (or the local backend's main
 * process), requests as frames on stdin, one at a time. It exits when its stdin closes.
 * - `c` "TIMEOUT CAP\nCOMMAND": run a command, answered by `run_command`'s frames;
 * - `p`: ping, answered by an empty `p`;
 * - `w` "PATH\nMODE UID GID\nBYTES": write a file (parents made 0755), answered by `x` with
 *   ok=1, or ok=0 and errno;
 * - `r` "PATH\nMAX": read a regular file following links, answered by `n` (the resolved path),
 *   `o` chunks and `x` with ok=1 mode uid gid size, or ok=0 and problem (not_found,
 *   is_directory, not_regular_file, too_large, rejected) and errno.
 * File requests run inside the sandbox's own namespaces, so a path (or a symlink the model
 * planted) can never reach the host's files.
 */
export const RUNNER_SCRIPT = String.raw`
$0 = "sandfarm-runner";
${RUN_COMMAND_CORE}
sub make_parents {
  my ($path) = @_;
  my @parts = split(m{/}, $path);
  pop @parts;
  my $dir = "";
  for my $part (@parts) {
    next if $part eq "";
    $dir .= "/$part";
    next if -d $dir;
    if (-e _) { $! = 20; return 0; } # ENOTDIR: a file stands where a directory should
    mkdir($dir, 0755) or return 0;
  }
  return 1;
}
sub write_file {
  my ($payload) = @_;
  my ($path, $meta, $content) = split(/
/, $payload, 3);
  my ($mode, $uid, $gid) = split(/ /, $meta);
  $content = "" if !defined $content;
  make_parents($path) or return emit("x", "ok=0 errno=" . ($! + 0));
  open(my $f, ">", $path) or return emit("x", "ok=0 errno=" . ($! + 0));
  binmode $f;
  print $f $content;
  close($f) or return emit("x", "ok=0 errno=" . ($! + 0));
  chmod($mode, $path);
  chown($uid, $gid, $path);
  emit("x", "ok=1");
}
sub read_file {
  my ($payload) = @_;
  my ($path, $max) = split(/
/, $payload, 2);
  return emit("x", "ok=0 problem=not_found") if !-e $path;
  return emit("x", "ok=0 problem=is_directory") if -d _;
  return emit("x", "ok=0 problem=not_regular_file") if !-f _;
  return emit("x", "ok=0 problem=too_large size=" . (-s _)) if -s _ > $max;
  my @st = stat($path);
  open(my $f, "<", $path) or return emit("x", "ok=0 problem=rejected errno=" . ($! + 0));
  binmode $f;
  my $resolved = readlink("/proc/self/fd/" . fileno($f));
  emit("n", defined $resolved ? $resolved : $path);
  my $size = 0;
  while (1) {
    my $n = sysread($f, my $chunk, 65536);
    last if !$n;
    $size += $n;
    emit("o", $chunk);
  }
  close $f;
  emit("x", "ok=1 mode=" . ($st[2] & 07777) . " uid=$st[4] gid=$st[5] size=$size");
}
sub read_exact {
  my ($want) = @_;
  my $buf = "";
  while (length($buf) < $want) {
    my $n = sysread(STDIN, $buf, $want - length($buf), length($buf));
    if (!defined $n) { next if $! == 4; return undef; }
    return undef if $n == 0;
  }
  return $buf;
}
emit("p", "");
while (defined(my $header = read_exact(5))) {
  my ($tag, $length) = unpack("a1 N", $header);
  my $payload = $length > 0 ? read_exact($length) : "";
  last if !defined $payload;
  if ($tag eq "p") { emit("p", ""); next; }
  if ($tag eq "w") { write_file($payload); next; }
  if ($tag eq "r") { read_file($payload); next; }
  next if $tag ne "c";
  my ($head, $cmd) = split(/\n/, $payload, 2);
  my ($timeout, $cap) = split(/ /, $head);
  run_command(defined $cmd ? $cmd : "", $timeout, $cap);
}
`;
