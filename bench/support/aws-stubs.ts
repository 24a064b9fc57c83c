import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { freePort } from '../../localstack/processes';
import { onCleanup } from './cleanup';

/**
 * Stand-ins for the AWS services a function calls that the bench does not run in
 * full: each answers the one call the functions make, over the AWS JSON protocol,
 * so the SDK in the function is the one that runs on AWS. Closed when the bench ends.
 */
interface Answer {
  status: number;
  body: unknown;
}

async function awsJsonEndpoint(name: string, protocol: '1.0' | '1.1', answer: (target: string, input: Record<string, unknown>, raw: string) => Answer): Promise<string> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { status, body } = answer(String(req.headers['x-amz-target'] ?? ''), JSON.parse(raw || '{}') as Record<string, unknown>, raw);
      res.writeHead(status, { 'content-type': `application/x-amz-json-${protocol}` });
      res.end(JSON.stringify(body));
    });
  });
  const port = await freePort();
  await new Promise<void>((listening) => server.listen(port, '127.0.0.1', listening));
  onCleanup(`stub ${name} endpoint`, () => new Promise((closed) => server.close(() => closed(undefined))));
  return `http://127.0.0.1:${port}`;
}

/** Step Functions accepting every StartExecution (the hold timer's one call). */
export function stubStepFunctions(): Promise<string> {
  return awsJsonEndpoint('Step Functions', '1.0', () => ({
    status: 200,
    body: { executionArn: `arn:aws:states:us-east-1:000000000000:execution:bench:${randomUUID()}`, startDate: Date.now() / 1000 },
  }));
}

/**
 * SSM answering GetParameter with one SecureString (where deployed stages keep the
 * admin key, lib/adapters/admin-key.ts); any other request is refused.
 */
export function stubSsm(name: string, value: string): Promise<string> {
  return awsJsonEndpoint('SSM', '1.1', (target, input, raw) =>
    target === 'AmazonSSM.GetParameter' && input.Name === name && input.WithDecryption === true
      ? { status: 200, body: { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1, ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}` } } }
      : { status: 400, body: { __type: 'ValidationException', message: `unexpected request ${target} ${raw}` } },
  );
}
