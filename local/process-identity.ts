/**
 * Who runs a local execution: a process on this machine, identified so that a later process can tell whether
 * it is still alive. A pid alone is not enough, since pids are reused: on Linux the process's start time (in
 * clock ticks since boot, from /proc) tells a reused pid apart.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Start time in clock ticks since boot (Linux); absent where /proc is not available. */
  startTicks?: number;
}

/**
 * Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; the command name (field 2) may hold spaces, so
 * count from its closing ")". `undefined` where /proc is not available (not Linux) or the process is gone.
 */
function procStat(pid: number): { state: string; startTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    return Number.isFinite(startTicks) ? { state: fields[0] ?? '', startTicks } : undefined;
  } catch {
    return undefined;
  }
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  if (!self) {
    const startTicks = procStat(process.pid)?.startTicks;
    self = { pid: process.pid, host: hostname(), ...(startTicks === undefined ? {} : { startTicks }) };
  }
  return self;
}

/**
 * Whether the process is alive. A process on another host is assumed alive (this machine cannot tell); a pid
 * that does not exist, or exists with another start time, is not.
 */
export function isAlive(owner: ProcessIdentity): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(owner.pid);
  if (!stat) return true;
  // A killed process stays a zombie (state Z) until its parent reaps it: it runs nothing any more.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.startTicks === undefined || stat.startTicks === owner.startTicks;
}
