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
 * How many requests that change ONE event the suites send at once. The design
 * no longer sets this: with the event's stock spread over shards (README,
 * "Sharded stock"), buyers of one event rarely meet, and BENCHMARKS.md ("Like
 * AWS") measures what one event sells under AWS's limits. What sets it is the
 * local emulator: DynamoDB Local behind the model serves a few hundred calls a
 * second on a laptop, and the suites call it in-process through one client, so
 * well above this every call waits seconds in a queue that AWS does not have
 * (there, every Lambda instance has its own connection and an answer takes
 * milliseconds), and the wait spends the request's retry budget. Warm, 80 at
 * once on an event of 3 shards answered every buyer 201 or 409; on a fresh clone
 * (DynamoDB Local not yet warmed up) 40 at once now and then left one a 503. At
 * this many, with room to spare, every buyer of a storm gets 201 or 409.
 */
export const ONE_EVENT_CONCURRENCY = 24;
