/** What a part hands back, and how the bench prints it. */

/** A correctness check: enforced (the bench exits non-zero when one fails). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A speed or size target: reported PASS/MISS, never a failure (shared, noisy machines). */
export interface Target {
  name: string;
  value: number;
  unit: string;
  /** e.g. ">= 0.9" or "< 150 ms" */
  target: string;
  met: boolean;
}

export interface PartResult {
  part: string;
  seconds: number;
  /** The CPU yardstick measured just before this part (bench/support/baseline.ts). */
  cpuBaselineMs: number;
  figures: Record<string, unknown>;
  checks: Check[];
  targets: Target[];
  notes: string[];
}

export const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail });

export function target(name: string, value: number, unit: string, op: '>=' | '<=' | '<', limit: number): Target {
  const met = op === '>=' ? value >= limit : op === '<=' ? value <= limit : value < limit;
  return { name, value, unit, target: `${op} ${limit}${unit ? ` ${unit}` : ''}`, met };
}

export const verdict = (met: boolean): string => (met ? 'PASS' : 'MISS');

export const fmt = {
  ms: (v: number, digits = 1) => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a'),
  n: (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'),
  x: (v: number, digits = 2) => (Number.isFinite(v) ? `${v.toFixed(digits)}x` : 'n/a'),
  kb: (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`,
  usd: (v: number, digits = 4) => `$${v.toFixed(digits)}`,
};

/** A plain-text table: columns padded to their widest cell; numbers right-aligned. */
export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-$~]?[\d,.]+( ?[a-zA-Z%/]+)?x?$|^n\/a$/.test(String(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [``, `${title}`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function printTargetsAndChecks(result: PartResult): void {
  if (result.targets.length > 0) {
    console.log(
      table(
        `${result.part}: targets`,
        ['target', 'measured', 'goal', 'verdict'],
        result.targets.map((t) => [t.name, `${Number.isInteger(t.value) ? t.value : t.value.toFixed(3)}${t.unit ? ` ${t.unit}` : ''}`, t.target, verdict(t.met)]),
      ),
    );
  }
  if (result.checks.length > 0) {
    console.log(table(`${result.part}: correctness checks`, ['check', 'result', 'detail'], result.checks.map((c) => [c.name, c.ok ? 'OK' : 'FAILED', c.detail])));
  }
  for (const note of result.notes) console.log(`  note: ${note}`);
}
