/**
 * `npm run package -- [--stage prod]`: `serverless package` with the given options,
 * then the size of each function's bundle: the minified JavaScript Lambda loads,
 * and the zip it ships in.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const serverless = resolve(__dirname, '../node_modules/serverless/bin/serverless.js');
const result = spawnSync(process.execPath, [serverless, 'package', ...args], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

const packageFlag = args.indexOf('--package');
const dir = resolve(packageFlag >= 0 ? args[packageFlag + 1]! : '.serverless');
const rows = readdirSync(dir)
  .filter((file) => file.endsWith('.zip'))
  .map((file) => {
    const listing = execFileSync('unzip', ['-l', join(dir, file)], { encoding: 'utf8' });
    const js = listing
      .split('\n')
      .filter((line) => /\.js$/.test(line.trim()))
      .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]), 0);
    return { fn: file.replace(/\.zip$/, ''), js, zip: statSync(join(dir, file)).size };
  })
  .sort((a, b) => b.js - a.js);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log(`\nBundle sizes (${dir}):`);
for (const r of rows) console.log(`  ${r.fn.padEnd(20)} ${kb(r.js).padStart(10)} js ${kb(r.zip).padStart(10)} zip`);
