import { type LikeAwsSettings, likeAwsSettings } from '../../localstack/like-aws/settings';

/**
 * What the test suites run under: the model of AWS (localstack/like-aws/) with
 * transaction conflicts, ClientRequestToken idempotency, per-partition write units
 * and the StartExecution throttle, at AWS's own limits, so that what the suites
 * prove they prove under AWS's conflict semantics, not only on DynamoDB Local's
 * kinder ones. Lost answers are left to the tests that choose which answer to lose
 * (tests/integration/lost-answers.test.ts): at random they would make every other
 * test's expectations a matter of chance.
 */
export const UNDER_THE_MODEL: LikeAwsSettings = likeAwsSettings({ LIKE_AWS_MODELS: 'conflicts,tokens,partitions,sfn-throttle' });

/**
 * How many requests that change ONE event the suites send at once. Every booking,
 * payment, cancel and expiry of an event writes its one event item in a
 * transaction, and under AWS's conflict semantics concurrent transactions on one
 * item cancel each other (they are not queued): well above this, the retries run
 * out and buyers get 503s instead of 201 or 409. The storms of one hot event run at
 * this concurrency; BENCHMARKS.md ("Like AWS") measures the gap, which sharded
 * stock is to close.
 */
export const ONE_EVENT_CONCURRENCY = 4;
