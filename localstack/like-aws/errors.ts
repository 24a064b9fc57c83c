import { LOCAL_ACCOUNT, LOCAL_REGION } from '../stepfunctions';

/**
 * DynamoDB's error answers, as AWS sends them (JSON 1.0: the type in `__type`, the
 * fields the SDK parses into its error classes). DynamoDB's own errors carry its
 * namespace; InternalServerError comes from the service framework, with another one.
 */
export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
}

const type = (name: string) => `com.amazonaws.dynamodb.v20120810#${name}`;

const HOT_KEY =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';

export type CancellationCode = 'None' | 'TransactionConflict' | 'ThrottlingError';

const reasonMessage: Record<CancellationCode, string | undefined> = {
  None: undefined,
  TransactionConflict: 'Transaction is ongoing for the item',
  ThrottlingError: HOT_KEY,
};

export function tableArn(table: string, index?: string | null): string {
  return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}${index ? `/index/${index}` : ''}`;
}

/** One reason per item of the transaction, in order. */
export function transactionCanceled(codes: CancellationCode[]): ErrorAnswer {
  return {
    status: 400,
    body: {
      __type: type('TransactionCanceledException'),
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
      CancellationReasons: codes.map((Code) => (reasonMessage[Code] ? { Code, Message: reasonMessage[Code] } : { Code })),
    },
  };
}

export const transactionConflict = (): ErrorAnswer => ({
  status: 400,
  body: { __type: type('TransactionConflictException'), message: 'Transaction is ongoing for the item' },
});

export const transactionInProgress = (): ErrorAnswer => ({
  status: 400,
  body: { __type: type('TransactionInProgressException'), Message: 'Transaction with the given request token is already in progress.' },
});

export const idempotentParameterMismatch = (): ErrorAnswer => ({
  status: 400,
  body: {
    __type: type('IdempotentParameterMismatchException'),
    Message: 'The request uses the same client token as a previous, but non-identical request.',
  },
});

/** A key-range throttle of an on-demand table or of one of its indexes. */
export const throughputExceeded = (table: string, index: string | null): ErrorAnswer => ({
  status: 400,
  body: {
    __type: type('ProvisionedThroughputExceededException'),
    message: HOT_KEY,
    ThrottlingReasons: [
      { reason: index ? 'IndexWriteKeyRangeThroughputExceeded' : 'TableWriteKeyRangeThroughputExceeded', resource: tableArn(table, index) },
    ],
  },
});

export const internalServerError = (): ErrorAnswer => ({
  status: 500,
  body: { __type: 'com.amazon.coral.service#InternalServerError', message: 'Internal server error' },
});
