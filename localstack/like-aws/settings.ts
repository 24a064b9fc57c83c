import * as z from 'zod';

/**
 * The settings of the model of AWS (`npm start -- --like-aws`), read from the
 * environment once, as ../shared/API.md ("Running it like AWS") names them. Each model
 * can be switched on or off by itself (LIKE_AWS_MODELS), so that a run can tell
 * which of AWS's behaviours a result comes from.
 */
export const LIKE_AWS_MODELS = ['conflicts', 'tokens', 'partitions', 'lost-answers', 'sfn-throttle'] as const;
export type LikeAwsModel = (typeof LIKE_AWS_MODELS)[number];

export interface LikeAwsSettings {
  /** The models that are on; the others forward every call as it is. */
  models: readonly LikeAwsModel[];
  /** How long a TransactWriteItems holds its items against other writes (ms). */
  transactionMs: number;
  /** Write units per second, and of burst, of one partition key value (table or index). */
  partitionWcu: number;
  /** Share (0..1) of DynamoDB writes that are applied and then answered with a 500. */
  lostAnswers: number;
  /** StartExecution token bucket: its size, and its refill per second. */
  sfnStartBurst: number;
  sfnStartRate: number;
}

const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);
const number = (schema: z.ZodNumber, fallback: number) => z.preprocess(blankAsUnset, z.coerce.number().pipe(schema).default(fallback));

const models = z.preprocess(
  blankAsUnset,
  z
    .string()
    .default(LIKE_AWS_MODELS.join(','))
    .transform((list) => (list.trim() === 'none' ? [] : list.split(',').map((name) => name.trim()).filter(Boolean)))
    .pipe(z.array(z.enum(LIKE_AWS_MODELS, { error: `each must be one of ${LIKE_AWS_MODELS.join(', ')} (or the list "none")` }))),
);

const Environment = z.object({
  LIKE_AWS_MODELS: models,
  LIKE_AWS_TRANSACTION_MS: number(z.number().int().min(0).max(60_000), 10),
  LIKE_AWS_PARTITION_WCU: number(z.number().positive(), 1000),
  LIKE_AWS_LOST_ANSWERS: number(z.number().min(0).max(1), 0),
  LIKE_AWS_SFN_START_BURST: number(z.number().int().min(1), 1300),
  LIKE_AWS_SFN_START_RATE: number(z.number().positive(), 300),
});

export function likeAwsSettings(env: Record<string, string | undefined> = process.env): LikeAwsSettings {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid like-AWS setting: ${problems}`);
  }
  const s = parsed.data;
  return {
    models: [...new Set(s.LIKE_AWS_MODELS)],
    transactionMs: s.LIKE_AWS_TRANSACTION_MS,
    partitionWcu: s.LIKE_AWS_PARTITION_WCU,
    lostAnswers: s.LIKE_AWS_LOST_ANSWERS,
    sfnStartBurst: s.LIKE_AWS_SFN_START_BURST,
    sfnStartRate: s.LIKE_AWS_SFN_START_RATE,
  };
}

export const isOn = (settings: LikeAwsSettings, model: LikeAwsModel): boolean => settings.models.includes(model);

/** One line for the start banner: the models that are on, with their settings. */
export function describeLikeAws(settings: LikeAwsSettings): string {
  const detail: Record<LikeAwsModel, string> = {
    conflicts: `conflicts (${settings.transactionMs} ms)`,
    tokens: 'tokens',
    partitions: `partitions (${settings.partitionWcu} WCU/s)`,
    'lost-answers': `lost-answers (${settings.lostAnswers})`,
    'sfn-throttle': `sfn-throttle (${settings.sfnStartBurst} burst, ${settings.sfnStartRate}/s)`,
  };
  const on = LIKE_AWS_MODELS.filter((model) => isOn(settings, model));
  return on.length > 0 ? on.map((model) => detail[model]).join(', ') : 'no model on: every call is forwarded as it is';
}
