import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LOCAL_REGION } from './stepfunctions';

/*
 * What the local event source mappings (the table's stream, localstack/streams.ts;
 * the SQS queues, localstack/sqs-events.ts) share: invoking a function as Lambda
 * does for them, and waiting between polls in a way that stopping cuts short.
 */

/** How one invocation went, as the event source mapping sees it. */
export type InvocationOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/**
 * Invokes through serverless-offline's Lambda invoke endpoint (the handler as
 * deployed). A function error, or no answer, is an outcome, never a throw: the
 * mapping decides what it means for the batch.
 */
export function lambdaInvoker(lambdaEndpoint: string): { invoke(functionName: string, event: unknown): Promise<InvocationOutcome>; close(): void } {
  const lambda = new LambdaClient({
    endpoint: lambdaEndpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    async invoke(functionName, event) {
      try {
        const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
        const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
        if (answer.FunctionError) return { ok: false, error: text };
        return { ok: true, result: text === '' ? null : (JSON.parse(text) as unknown) };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
    close: () => lambda.destroy(),
  };
}

/** A sleep that ends at once when `signal` aborts (the mappings are stopping). */
export function sleepUnless(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake);
    });
}
