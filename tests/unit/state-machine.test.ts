import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';

/** asl-validator v4 ships no type declarations: its CommonJS export is this function. */
type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};
const validateAsl = createRequire(__filename)('asl-validator') as AslValidator;

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  TimestampPath?: string;
  Resource?: unknown;
  Retry?: { ErrorEquals: string[] }[];
  [field: string]: unknown;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}
interface Service {
  functions: Record<string, { handler: string; events?: Record<string, unknown>[] }>;
  stepFunctions: { stateMachines: Record<string, { type?: string; definition: Definition }> };
}

// CloudFormation tags (!GetAtt, !Join) elsewhere in the file are not needed here: read leniently.
const service = parseDocument(readFileSync(resolve(__dirname, '../../serverless.yml'), 'utf8'), {
  strict: false,
  logLevel: 'silent',
}).toJS() as Service;
const machine = service.stepFunctions.stateMachines.bookingHold!;
const definition = machine.definition;
const start = definition.States[definition.StartAt]!;
const task = definition.States[start.Next ?? '']!;

/** As the local stack does: `Fn::GetAtt: [fn, Arn]` becomes the Lambda's ARN. */
function withLambdaArns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withLambdaArns);
  if (value && typeof value === 'object') {
    const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return `arn:aws:lambda:us-east-1:123456789012:function:ticket-booking-dev-${String(getAtt[0])}`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withLambdaArns(v)]));
  }
  return value;
}

describe('the bookingHold state machine', () => {
  it('is a valid Amazon States Language definition', () => {
    const result = validateAsl(withLambdaArns(structuredClone(definition)));

    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is checked by a validator that does reject a broken definition', () => {
    const broken = withLambdaArns(structuredClone(definition)) as Definition;
    broken.States[definition.StartAt]!.Next = 'NoSuchState';

    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('is a Standard machine, since an Express one cannot run for the 15 minutes of a hold', () => {
    expect(machine.type).toBe('STANDARD');
  });

  it('starts with a Wait until the execution input says the hold expires ($.expires_at)', () => {
    expect(start).toMatchObject({ Type: 'Wait', TimestampPath: '$.expires_at' });
  });

  it('then runs a Task on the expire Lambda (Fn::GetAtt [expireBooking, Arn])', () => {
    expect(task).toMatchObject({ Type: 'Task', Resource: { 'Fn::GetAtt': ['expireBooking', 'Arn'] } });
  });

  it('hands the execution input (booking_ids, expires_at) to the Lambda unfiltered', () => {
    expect(Object.keys(task).filter((field) => ['InputPath', 'Parameters', 'Arguments'].includes(field))).toEqual([]);
  });

  it('retries the Task on any error (a Lambda fault, or a hold not yet due)', () => {
    expect(task.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: expect.arrayContaining(['States.ALL']) })]));
  });

  it('ends with that Task', () => {
    expect({ End: task.End, Next: task.Next, states: Object.keys(definition.States).length }).toEqual({
      End: true,
      Next: undefined,
      states: 2,
    });
  });

  it('names a function that serverless.yml defines with the handler functions/holds.expire', () => {
    const [functionKey] = (task.Resource as { 'Fn::GetAtt': string[] })['Fn::GetAtt'];

    expect(service.functions[functionKey ?? '']?.handler).toBe('functions/holds.expire');
  });
});

describe('the sweeper', () => {
  it('runs every minute (schedule: rate(1 minute))', () => {
    expect(service.functions.sweepExpiredHolds?.events).toContainEqual({ schedule: 'rate(1 minute)' });
  });

  it('runs the handler functions/holds.sweep', () => {
    expect(service.functions.sweepExpiredHolds?.handler).toBe('functions/holds.sweep');
  });
});
