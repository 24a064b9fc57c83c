import { Logger } from '@aws-lambda-powertools/logger';
import { config } from '../config';

/** Structured JSON logs (Powertools), one logger per process; the request id is added per request. */
export const logger = new Logger({ serviceName: config.POWERTOOLS_SERVICE_NAME });
