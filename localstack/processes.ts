import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

/** A port the OS says is free right now (for tests that must not collide with anything). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} (${what}) is in use by another program. Stop it, or choose another port with ${setting}=<port>.`);
  }
}

/** Stops a child and everything it started (children are spawned as group leaders). */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The pids of a running stack, written to a file so that the next start can clean
 * up after a crash that left DynamoDB Local or serverless-offline running (and
 * holding their ports). A pid is only killed if its command line is still ours.
 */
export class PidFile {
  constructor(private readonly path: string) {}

  write(pids: Record<string, number | undefined>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.path, JSON.stringify(pids));
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }

  /**
   * Kills what a previous, crashed run left behind, and waits until it is gone
   * (a killed process holds its ports until it has exited). Returns what it killed.
   */
  async reapStale(marker: RegExp): Promise<string[]> {
    if (!existsSync(this.path)) return [];
    const reaped: string[] = [];
    let pids: Record<string, number> = {};
    try {
      pids = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, number>;
    } catch {
      // unreadable: nothing to reap
    }
    for (const [name, pid] of Object.entries(pids)) {
      if (typeof pid === 'number' && commandOf(pid)?.match(marker)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            continue;
          }
        }
        reaped.push(`${name} (pid ${pid})`);
        await waitFor(`${name} (pid ${pid}) to exit`, async () => !isAlive(pid), 10_000);
      }
    }
    this.remove();
    return reaped;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited before it was ready (code ${child.exitCode ?? child.signalCode})`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
}
