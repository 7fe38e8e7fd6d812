import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * libfaketime (Debian's `libfaketime`), installed on first use as the Slurm helper does:
 * it moves a real process's wall clock (LD_PRELOAD), the way an NTP step does.
 */
export function faketimeLib(): string {
  if (fs.existsSync(LIB)) return LIB;
  if (process.getuid?.() !== 0) throw new Error(`libfaketime is not installed and this is not root: apt-get install -y libfaketime`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'libfaketime'], { env, stdio: 'ignore', timeout: 300_000 });
  if (!fs.existsSync(LIB)) throw new Error(`apt-get installed libfaketime but ${LIB} is missing`);
  return LIB;
}

/** Environment that lets a test step the process's wall clock by writing an offset ("-2") into `file`. */
export function steppableClockEnv(file: string): NodeJS.ProcessEnv {
  fs.writeFileSync(file, '+0\n');
  // Only the wall clock moves: the monotonic clock, as after a real NTP step, does not.
  return { LD_PRELOAD: faketimeLib(), FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
