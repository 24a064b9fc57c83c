import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export const STAGES = ['dev', 'local', 'prod'] as const;
const ROOT = resolve(__dirname, '../..');
export const packageDir = (stage: string) => resolve(ROOT, '.serverless-test', stage);

/**
 * `serverless package` for every stage, offline (no AWS account), each into its
 * own folder. One after the other: the framework also writes .serverless/ itself,
 * so packages running at once delete each other's state.
 */
export default async function setup(): Promise<void> {
  rmSync(resolve(ROOT, '.serverless-test'), { recursive: true, force: true });
  const serverless = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');
  for (const stage of STAGES) {
    await promisify(execFile)(process.execPath, [serverless, 'package', '--stage', stage, '--package', packageDir(stage)], {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          ESBUILD_WORK_FOLDER: `.esbuild-test/${stage}`,
          ADMIN_API_KEY: '',
          HOLD_STATE_MACHINE_ARN: '',
          SLS_TELEMETRY_DISABLED: '1',
        },
      });
  }
  rmSync(resolve(ROOT, '.esbuild-test'), { recursive: true, force: true });
}
