import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of this process and of every process it started (DynamoDB Local's JVM,
 * serverless-offline, esbuild), read from /proc: where the CPU of a run went.
 */
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcInfo {
  pid: number;
  ppid: number;
  name: string;
  seconds: number;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, ppid: Number(fields[1]), name: label(cmdline), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function label(cmdline: string[]): string {
  const text = cmdline.join(' ');
  if (/DynamoDBLocal/.test(text)) return 'DynamoDB Local (java)';
  if (/serverless\.js offline/.test(text)) return 'serverless-offline (handlers, HTTP)';
  if (/esbuild/.test(text)) return 'esbuild';
  return cmdline.slice(0, 2).join(' ').slice(0, 60);
}

export type CpuSnapshot = Map<number, ProcInfo>;

/** This process (by process.cpuUsage) and all its descendants. */
export function cpuSnapshot(): CpuSnapshot {
  const all: ProcInfo[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const info = readProc(Number(entry));
      if (info) all.push(info);
    }
  } catch {
    // no /proc: only this process
  }
  const mine = new Map<number, ProcInfo>();
  const usage = process.cpuUsage();
  mine.set(process.pid, { pid: process.pid, ppid: process.ppid, name: 'bench (clients, local Step Functions)', seconds: (usage.user + usage.system) / 1e6 });
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.set(p.pid, p);
        grew = true;
      }
    }
  }
  return mine;
}

/** CPU seconds spent between two snapshots, by kind of process. */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const spent: Record<string, number> = {};
  for (const [pid, now] of after) {
    const then = before.get(pid)?.seconds ?? 0;
    const delta = now.seconds - then;
    if (delta <= 0) continue;
    spent[now.name] = Math.round(((spent[now.name] ?? 0) + delta) * 100) / 100;
  }
  return spent;
}
