import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readService, type ServiceDefinition, tableOf } from '../../localstack/service';
import { cpuBaseline, type CpuBaseline } from './baseline';
import { onCleanup } from './cleanup';
import { type BenchDynamo, startBenchDynamo } from './dynamo';
import type { PartResult } from './report';

/** What the parts share: serverless.yml as resolved, one DynamoDB Local, temp folders, earlier results. */
export interface BenchContext {
  service(): Promise<ServiceDefinition>;
  /** The shared DynamoDB Local (started on first use). */
  dynamo(): Promise<BenchDynamo>;
  /** Stops the shared DynamoDB Local (before the flash sale, which brings its own stack). */
  releaseDynamo(): Promise<void>;
  /** A fresh temp folder, removed when the bench ends. */
  tempDir(label: string): string;
  cpu(): CpuBaseline;
  results: Record<string, PartResult>;
  log(message: string): void;
}

export function createContext(): BenchContext {
  let service: Promise<ServiceDefinition> | undefined;
  let dynamo: Promise<BenchDynamo> | undefined;
  const started = performance.now();
  const ctx: BenchContext = {
    service: () => (service ??= readService()),
    dynamo: () =>
      (dynamo ??= ctx.service().then((s) => startBenchDynamo(tableOf(s)))),
    async releaseDynamo() {
      if (!dynamo) return;
      const running = dynamo;
      dynamo = undefined;
      await (await running).stop();
    },
    tempDir(label) {
      const dir = mkdtempSync(join(tmpdir(), `ticket-bench-${label}-`));
      onCleanup(`temp folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    cpu: () => cpuBaseline(),
    results: {},
    log: (message) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`),
  };
  return ctx;
}
