/**
 * Where a phase's time went, from /proc: the node's CPU, how long its main (JavaScript) thread
 * waited for a CPU while runnable, what it read and wrote, and what every other process on the
 * machine used meanwhile (the bench shares the machine; other work skews every number).
 */
import { readFileSync } from 'node:fs';
import { cpuSeconds, machineBusySeconds, selfCpuSeconds } from '../federation/system.js';

interface Snapshot {
  at: number;
  nodeCpu: number;
  /** Main thread: ns on CPU, ns waiting on a run queue (/proc/<pid>/schedstat). */
  onCpuNs: number;
  runDelayNs: number;
  readBytes: number;
  writeBytes: number;
  syscalls: number;
  selfCpu: number;
  machineBusy: number;
}

export interface Usage {
  seconds: number;
  /** CPU seconds (all threads) of the node, and of the bench process. */
  nodeCpu: number;
  benchCpu: number;
  /** Seconds the node's main thread was on a CPU, and runnable but waiting for one. */
  mainOnCpu: number;
  mainRunDelay: number;
  /** Bytes the node read from and wrote to storage (/proc/<pid>/io read_bytes, write_bytes). */
  readBytes: number;
  writeBytes: number;
  /** read/write system calls of the node. */
  syscalls: number;
  /** CPU seconds used by every other process on the machine. */
  others: number;
}

function fields(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.split(':');
    if (k !== undefined && v !== undefined) m.set(k.trim(), Number(v.trim()));
  }
  return m;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function snapshot(pid: number | undefined): Snapshot {
  const sched = read(`/proc/${pid}/schedstat`).trim().split(/\s+/).map(Number);
  const io = fields(read(`/proc/${pid}/io`));
  return {
    at: performance.now(),
    nodeCpu: cpuSeconds(pid) ?? Number.NaN,
    onCpuNs: sched[0] ?? Number.NaN,
    runDelayNs: sched[1] ?? Number.NaN,
    readBytes: io.get('read_bytes') ?? Number.NaN,
    writeBytes: io.get('write_bytes') ?? Number.NaN,
    syscalls: (io.get('syscr') ?? Number.NaN) + (io.get('syscw') ?? Number.NaN),
    selfCpu: selfCpuSeconds(),
    machineBusy: machineBusySeconds(),
  };
}

/** Starts measuring; the function it returns gives the usage since. */
export function measure(pid: number | undefined): () => Usage {
  const a = snapshot(pid);
  return () => {
    const b = snapshot(pid);
    const nodeCpu = b.nodeCpu - a.nodeCpu;
    const benchCpu = b.selfCpu - a.selfCpu;
    return {
      seconds: (b.at - a.at) / 1000, nodeCpu, benchCpu,
      mainOnCpu: (b.onCpuNs - a.onCpuNs) / 1e9, mainRunDelay: (b.runDelayNs - a.runDelayNs) / 1e9,
      readBytes: b.readBytes - a.readBytes, writeBytes: b.writeBytes - a.writeBytes, syscalls: b.syscalls - a.syscalls,
      others: Math.max(0, b.machineBusy - a.machineBusy - nodeCpu - benchCpu),
    };
  };
}
