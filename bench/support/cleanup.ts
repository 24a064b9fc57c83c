/**
 * Everything the bench starts or creates registers how to undo it here: the
 * processes it spawned (by their own handles, never by name) and the temp folders
 * it made. `cleanupAll` runs the undo steps newest first, also on Ctrl-C.
 */
type Step = { name: string; run: () => unknown };

const steps: Step[] = [];

/** Registers an undo step; the returned function runs it now (and unregisters it). */
export function onCleanup(name: string, run: () => unknown): () => Promise<void> {
  const step = { name, run };
  steps.push(step);
  return async () => {
    const index = steps.indexOf(step);
    if (index < 0) return;
    steps.splice(index, 1);
    await step.run();
  };
}

export async function cleanupAll(): Promise<string[]> {
  const failures: string[] = [];
  while (steps.length > 0) {
    const step = steps.pop()!;
    try {
      await step.run();
    } catch (error) {
      failures.push(`${step.name}: ${(error as Error).message}`);
    }
  }
  return failures;
}

export function cleanupOnSignals(): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping everything the bench started...`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
