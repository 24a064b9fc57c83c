import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { StateMachineSource } from './stepfunctions';

const ROOT = resolve(__dirname, '..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');

export type CfnTable = CreateTableCommandInput & {
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
};

/** serverless.yml as the framework resolves it (`serverless print`): the one source of truth. */
export interface ServiceDefinition {
  service: string;
  provider: { stage?: string };
  functions: Record<string, { name: string }>;
  stepFunctions?: { stateMachines: Record<string, { name: string; definition: Record<string, unknown> }> };
  resources: { Resources: Record<string, { Type: string; Properties: unknown }> };
}

export async function readService(stage = 'dev', env: NodeJS.ProcessEnv = process.env): Promise<ServiceDefinition> {
  const { stdout } = await promisify(execFile)(process.execPath, [SERVERLESS, 'print', '--format', 'json', '--stage', stage], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as ServiceDefinition;
}

/** The one DynamoDB table, as CloudFormation properties. */
export function tableOf(service: ServiceDefinition): CfnTable {
  const tables = Object.values(service.resources.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`serverless.yml should define exactly one DynamoDB table, found ${tables.length}`);
  return tables[0]!.Properties as CfnTable;
}

export function stateMachinesOf(service: ServiceDefinition): StateMachineSource[] {
  return Object.values(service.stepFunctions?.stateMachines ?? {}).map((m) => ({ name: m.name, definition: m.definition }));
}

/** serverless.yml function key -> the deployed function name. */
export function functionNamesOf(service: ServiceDefinition): Record<string, string> {
  return Object.fromEntries(Object.entries(service.functions).map(([key, fn]) => [key, fn.name]));
}
