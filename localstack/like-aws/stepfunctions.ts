import { serveModel, replyJson, Upstream } from './http';
import { isOn, type LikeAwsSettings } from './settings';
import { TokenBucket } from './token-bucket';

/**
 * A model of Step Functions' StartExecution quota, in front of the local Step
 * Functions endpoint: a token bucket of LIKE_AWS_SFN_START_BURST refilled at
 * LIKE_AWS_SFN_START_RATE per second (AWS's quota in its largest regions); a start
 * the bucket cannot pay for is answered with AWS's ThrottlingException and never
 * reaches the endpoint. Every other call passes through unchanged.
 */
export interface LikeAwsStepFunctionsOptions {
  /** Where the model listens; 0 for a free port. */
  port: number;
  /** The local Step Functions endpoint. */
  upstream: string;
  settings: LikeAwsSettings;
  log?: (line: string) => void;
}

export interface LikeAwsStepFunctionsStats {
  /** StartExecution calls received. */
  starts: number;
  /** Of which throttled. */
  throttles: number;
}

export interface LikeAwsStepFunctions {
  endpoint: string;
  stats(): LikeAwsStepFunctionsStats;
  /** Clears the stats and refills the bucket. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startLikeAwsStepFunctions(options: LikeAwsStepFunctionsOptions): Promise<LikeAwsStepFunctions> {
  const { settings } = options;
  const throttling = isOn(settings, 'sfn-throttle');
  const upstream = new Upstream(options.upstream);
  const newBucket = () => new TokenBucket(settings.sfnStartBurst, settings.sfnStartRate);
  let bucket = newBucket();
  const counts: LikeAwsStepFunctionsStats = { starts: 0, throttles: 0 };

  const reset = () => {
    Object.assign(counts, { starts: 0, throttles: 0 });
    bucket = newBucket();
  };
  const stats = () => ({ ...counts });

  const server = await serveModel({
    port: options.port,
    log: options.log,
    handle(req, res) {
      if (req.headers['x-amz-target'] === 'AWSStepFunctions.StartExecution') {
        counts.starts += 1;
        if (throttling && !bucket.take(1)) {
          counts.throttles += 1;
          req.resume(); // the call's body is not needed, but must be read for the connection to be reused
          return replyJson(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
        }
      }
      upstream.pipe(req, res);
    },
    stats,
    reset,
  });

  return {
    endpoint: server.endpoint,
    stats,
    reset,
    async stop() {
      await server.close();
      upstream.close();
    },
  };
}
