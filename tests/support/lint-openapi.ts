/**
 * `npm run lint:openapi`: the OpenAPI document as GET /openapi.json serves it, linted
 * with the rulesets its readers run, Spectral's `spectral:oas` (.spectral.yaml) and
 * Redocly's `recommended` (redocly.yaml). Fails on any error or warning: a rule that
 * does not fit this API is turned off in its ruleset file, with the reason beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildOpenApiDocument } from '../../lib/http/openapi';

const root = resolve(__dirname, '../..');

interface Finding {
  tool: string;
  severity: 'error' | 'warning' | 'info' | 'hint';
  rule: string;
  where: string;
  message: string;
}

/** The JavaScript entry of a package's command, run with this Node (no shell, no PATH lookup). */
function cli(pkg: string, command: string): string {
  const manifest = join(root, 'node_modules', pkg, 'package.json');
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin[command];
  if (!bin) throw new Error(`${pkg} has no ${command} command`);
  return join(dirname(manifest), bin);
}

interface Ran {
  stdout: string;
  /** Everything the tool said, for when it gives no report. */
  said: string;
}

function run(entry: string, args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const result = spawnSync(process.execPath, [entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  // Both tools exit non-zero when they find errors, which is judged from their
  // reports; a crash leaves no report, and then what it said is the explanation.
  return { stdout: result.stdout, said: `${result.stdout}\n${result.stderr}\n(exit status ${result.status})`.trim() };
}

const SPECTRAL_SEVERITY = ['error', 'warning', 'info', 'hint'] as const;

function spectral(document: string, dir: string): Finding[] {
  const report = join(dir, 'spectral.json');
  const ran = run(cli('@stoplight/spectral-cli', 'spectral'), [
    'lint',
    document,
    '--ruleset',
    join(root, '.spectral.yaml'),
    '--format',
    'json',
    '--output',
    report,
    '--fail-severity',
    'hint',
  ]);
  let results: { code: string; message: string; path: (string | number)[]; severity: number }[];
  try {
    results = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    throw new Error(`Spectral gave no report:\n${ran.said}`);
  }
  return results.map((r) => ({
    tool: 'spectral',
    severity: SPECTRAL_SEVERITY[r.severity] ?? 'error',
    rule: r.code,
    where: '#/' + r.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/'),
    message: r.message,
  }));
}

function redocly(document: string): Finding[] {
  const ran = run(
    cli('@redocly/cli', 'redocly'),
    ['lint', document, '--config', join(root, 'redocly.yaml'), '--format', 'json'],
    // No update check against the registry, no usage report.
    { REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_TELEMETRY: 'off' },
  );
  let report: { problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[] };
  try {
    report = JSON.parse(ran.stdout);
  } catch {
    throw new Error(`Redocly gave no report:\n${ran.said}`);
  }
  return report.problems.map((p) => ({
    tool: 'redocly',
    severity: p.severity === 'warn' ? 'warning' : p.severity === 'error' ? 'error' : 'info',
    rule: p.ruleId,
    where: p.location[0]?.pointer ?? '',
    message: p.message,
  }));
}

function main(): number {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const document = join(dir, 'openapi.json');
    writeFileSync(document, JSON.stringify(buildOpenApiDocument(), null, 2));
    const findings = [...spectral(document, dir), ...redocly(document)];
    for (const f of findings) console.log(`${f.tool} ${f.severity} ${f.rule} ${f.where}: ${f.message}`);
    const failing = findings.filter((f) => f.severity === 'error' || f.severity === 'warning');
    const count = (tool: string, severity: Finding['severity']) => findings.filter((f) => f.tool === tool && f.severity === severity).length;
    for (const tool of ['spectral', 'redocly']) {
      console.log(`OpenAPI lint, ${tool}: ${count(tool, 'error')} errors, ${count(tool, 'warning')} warnings`);
    }
    if (failing.length > 0) {
      console.log('Fix each finding in the document, or turn its rule off in .spectral.yaml or redocly.yaml with a one-line reason.');
      return 1;
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
