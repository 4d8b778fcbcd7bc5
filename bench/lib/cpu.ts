import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of processes, from /proc (Linux): to show how the machine's cores are shared between
 * DynamoDB Local, the server and the load generator during a run.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) → indexes 11, 12 here.
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** The DynamoDB Local (Java) process listening on `port`. */
export function findDynamoLocalPid(port: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.includes('DynamoDBLocal')) && args[args.indexOf('-port') + 1] === String(port)) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return null;
}

/** CPU used by each process over an interval, as % of one core. */
export function cpuMeter(pids: Record<string, number | null | undefined>) {
  const start = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? safe(pid) : NaN]));
  return () => {
    const seconds = (performance.now() - start) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, pid ? Math.round((safe(pid) - before[k]!) / 10 / seconds) : NaN]),
    ) as Record<string, number>;
  };
}

function safe(pid: number): number {
  try {
    return pid === process.pid ? (process.cpuUsage().user + process.cpuUsage().system) / 1000 : cpuTimeMs(pid);
  } catch {
    return NaN;
  }
}
