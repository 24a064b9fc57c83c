/**
 * The harness of the hostile-input tests: recipes (what a request is made of, and
 * what is wrong with it) turned into raw requests against a world of real users,
 * events and bookings; each request sent, its response judged, and the whole table
 * compared with what it held before. The generators of recipes are the tests'.
 *
 * Recipes are small, so that a counterexample prints readably even when the request
 * carries 200 KB. Reproduce a failure with the seed and path that fast-check prints
 * (`fc.assert(..., { seed, path })`).
 */
import fc from 'fast-check';
import { notA4xxProblem, notAProblem } from './expectations';
import { describeRequest, describeResponse, onTheWire, type RawRequest, type RawResponse, send, wellFormed } from './raw-http';
import { type Snapshot, snapshotDiff, type tableReader } from './table-snapshot';

/** What the requests are sent against: the admin key, users A and B, and ids by name. */
export interface World {
  admin: string;
  a: { id: string; key: string };
  b: { id: string; key: string };
  /** Ids (and other values) a recipe names as `{ ref }` or `@ref:<name>`. */
  ids: Record<string, string>;
}

export type CallerRecipe = 'none' | 'admin' | 'a' | 'b' | { authorization: string };

export type IdRecipe = { ref: string } | { raw: string };

export type BodyRecipe =
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'deep'; depth: number; shape: 'array' | 'object'; at: string | null }
  | { kind: 'huge'; bytes: number; field: string; filler: string }
  | { kind: 'empty' };

export interface Recipe {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The route, with `{id}` where the id goes. */
  route: string;
  caller: CallerRecipe;
  id?: IdRecipe;
  query?: [string, string][];
  body?: BodyRecipe;
  /** The Content-Type header; null: none; undefined: application/json when there is a body. */
  contentType?: string | null;
  idempotencyKey?: string;
  extraHeaders?: [string, string][];
  /** Must the API refuse it (a 4xx problem)? Otherwise: anything but a 5xx, and still no stored change. */
  mustRefuse: boolean;
  /** What is wrong with it, in words. */
  fault: string;
}

/** A string that stands for one of the world's ids, anywhere in a body or query value. */
export const REF_PREFIX = '@ref:';

function ref(w: World, name: string): string {
  const value = w.ids[name];
  if (value === undefined) throw new Error(`A recipe names ${name}, which the world does not have`);
  return value;
}

/** Replaces `@ref:<name>` strings (anywhere in a JSON value) by the world's ids. */
function withRefs(value: unknown, w: World): unknown {
  if (typeof value === 'string' && value.startsWith(REF_PREFIX)) return ref(w, value.slice(REF_PREFIX.length));
  if (Array.isArray(value)) return value.map((v) => withRefs(v, w));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRefs(v, w)]));
  return value;
}

function authorizationOf(caller: CallerRecipe, w: World): string | undefined {
  if (caller === 'none') return undefined;
  if (caller === 'admin') return `Bearer ${w.admin}`;
  if (caller === 'a') return `Bearer ${w.a.key}`;
  if (caller === 'b') return `Bearer ${w.b.key}`;
  // Near misses of real keys, spelled in the recipe so that the counterexample reads well.
  return caller.authorization
    .replace('@admin-typo', w.admin.slice(0, -1) + (w.admin.endsWith('0') ? '1' : '0'))
    .replace('@admin-prefix', w.admin.slice(0, -1))
    .replace('@admin-suffix', `${w.admin}x`)
    .replace('@a-typo', w.a.key.slice(0, -1) + (w.a.key.endsWith('A') ? 'B' : 'A'))
    .replace('@a-suffix', `${w.a.key}x`)
    .replace('@a-upper', w.a.key.toUpperCase());
}

function bodyText(body: BodyRecipe, w: World): string {
  switch (body.kind) {
    case 'json':
      return JSON.stringify(withRefs(body.value, w));
    case 'text':
      return body.text.replace(/@ref:(\w+)/g, (_m, name: string) => w.ids[name] ?? name);
    case 'deep': {
      const [open, close] = body.shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
      const nested = open.repeat(body.depth) + '1' + close.repeat(body.depth);
      return body.at === null ? nested : `{"${body.at}":${nested}}`;
    }
    case 'huge': {
      const head = `{"${body.field}":"`;
      const tail = '"}';
      const unit = Buffer.byteLength(body.filler);
      const count = Math.max(1, Math.ceil((body.bytes - head.length - tail.length) / unit));
      return head + body.filler.repeat(count) + tail;
    }
    case 'empty':
      return '';
  }
}

/** The request a recipe describes, in the world `w`. */
export function build(recipe: Recipe, w: World): RawRequest {
  let id = '';
  if (recipe.id) id = 'ref' in recipe.id ? ref(w, recipe.id.ref) : encodeURIComponent(wellFormed(recipe.id.raw));
  let path = recipe.route.replace('{id}', id);
  if (recipe.query && recipe.query.length > 0) {
    const value = (v: string) => (v.startsWith(REF_PREFIX) ? ref(w, v.slice(REF_PREFIX.length)) : v);
    path += '?' + recipe.query.map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(value(v)))}`).join('&');
  }
  const headers: Record<string, string> = {};
  const authorization = authorizationOf(recipe.caller, w);
  if (authorization !== undefined) headers.authorization = onTheWire(authorization);
  let body: string | undefined;
  if (recipe.body) {
    body = bodyText(recipe.body, w);
    if (recipe.contentType === undefined) headers['content-type'] = 'application/json';
  }
  if (typeof recipe.contentType === 'string') headers['content-type'] = onTheWire(recipe.contentType);
  if (recipe.idempotencyKey !== undefined) headers['idempotency-key'] = onTheWire(recipe.idempotencyKey);
  for (const [name, value] of recipe.extraHeaders ?? []) headers[name] = onTheWire(value);
  return { method: recipe.method, path, headers, body, timeoutMs: 30_000 };
}

/** How a property runs: fast-check's seed and number of runs, the time it may take, and the fewest runs that still prove something. */
export interface PropertySettings {
  seed: number;
  numRuns: number;
  /** fast-check stops generating (and shrinking) after this long; what ran is still checked. */
  timeLimitMs: number;
  /** Below this many runs a property that hit its time limit fails instead of passing on what little it tried. */
  minRuns: number;
}

/**
 * Sends recipes to the stack at `base` and judges each: a 4xx problem when it must
 * be refused, never a 5xx, and not one item of the table changed (a full Scan after
 * every request). Failures throw, with the fault, the request and the response.
 */
export function hostileHarness(options: { base: string; table: ReturnType<typeof tableReader>; world: World; property: PropertySettings }) {
  const { base, table, world, property } = options;
  let baseline: Snapshot;

  async function check(recipe: Recipe, request: RawRequest = build(recipe, world)): Promise<RawResponse> {
    const response = await send(base, request);
    const after = await table.snapshot();
    const changes = snapshotDiff(baseline, after);
    const problems: string[] = [];
    if (recipe.mustRefuse) {
      const why = notA4xxProblem(response);
      if (why) problems.push(why);
    } else if (response.status === 0 || response.status >= 500) {
      problems.push(`a ${response.status === 0 ? `missing response (${response.error})` : response.status} for bad input`);
    } else if (response.status >= 400) {
      const why = notAProblem(response);
      if (why) problems.push(why);
    }
    if (changes.length > 0) {
      baseline = after; // report this request's change, not every later one
      problems.push(`the table changed:\n    ${changes.slice(0, 5).join('\n    ')}`);
    }
    if (problems.length > 0) {
      throw new Error(`${problems.join('; ')}\n  fault:    ${recipe.fault}\n  request:  ${describeRequest(request)}\n  response: ${describeResponse(response)}`);
    }
    return response;
  }

  return {
    build: (recipe: Recipe): RawRequest => build(recipe, world),

    /** One request that must be refused, checked as the properties check theirs (`request`: when not the recipe's own). */
    async refused(recipe: Omit<Recipe, 'mustRefuse'>, request?: RawRequest): Promise<RawResponse> {
      baseline = await table.snapshot();
      return check({ ...recipe, mustRefuse: true }, request);
    },

    /**
     * Checks one request per generated recipe. It reports how many it made, and fails
     * when the time limit cut them below `minRuns`, as it fails on a bad response.
     */
    async runProperty(arbitrary: fc.Arbitrary<Recipe>): Promise<void> {
      baseline = await table.snapshot();
      const details = await fc.check(
        fc.asyncProperty(arbitrary, async (recipe) => {
          await check(recipe);
        }),
        { seed: property.seed, numRuns: property.numRuns, interruptAfterTimeLimit: property.timeLimitMs },
      );
      if (details.failed) throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
      const limit = details.interrupted ? `, stopped by the ${property.timeLimitMs} ms limit` : '';
      console.log(`${expect.getState().currentTestName}: ${details.numRuns} of ${property.numRuns} runs${limit}`);
      expect(details.numRuns).toBeGreaterThanOrEqual(property.minRuns);
    },
  };
}
