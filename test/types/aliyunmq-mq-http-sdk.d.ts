/**
 * Types for the parts of `@aliyunmq/mq-http-sdk` (Alibaba Cloud's official RocketMQ HTTP SDK for
 * Node, plain JavaScript) that test/e2e/aliyun-*.test.ts drive against flaremq.
 */
declare module "@aliyunmq/mq-http-sdk" {
  export interface SdkResponse<B> {
    code: number;
    requestId: string;
    body: B;
  }
  export interface PublishBody {
    MessageId: string;
    MessageBodyMD5: string;
    ReceiptHandle?: string;
  }
  export interface SdkMessage {
    MessageId: string;
    ReceiptHandle: string;
    MessageBodyMD5: string;
    MessageBody: string;
    PublishTime: string;
    NextConsumeTime: string;
    FirstConsumeTime: string;
    ConsumedTimes: string;
    MessageTag?: string;
    MessageKey?: string;
    ShardingKey?: string;
    StartDeliverTime?: number;
    Properties: Record<string, string>;
  }
  export interface AckFailure {
    ErrorCode: string;
    ErrorMessage: string;
    ReceiptHandle: string;
  }
  /** What the SDK throws for an `<Error>` answer. */
  export interface SdkError extends Error {
    Code: string;
    RequestId: string;
  }
  export class MessageProperties {
    messageKey(key: string): void;
    startDeliverTime(timeMillis: number): void;
    transCheckImmunityTime(timeSeconds: number): void;
    shardingKey(key: string): void;
    putProperty(key: string, value: string): void;
  }
  export class MQProducer {
    publishMessage(body: string, tag?: string, props?: MessageProperties): Promise<SdkResponse<PublishBody>>;
  }
  export class MQTransProducer extends MQProducer {
    consumeHalfMessage(numOfMessages: number, waitSeconds?: number): Promise<SdkResponse<SdkMessage[]>>;
    commit(receiptHandle: string): Promise<SdkResponse<AckFailure[] | undefined>>;
    rollback(receiptHandle: string): Promise<SdkResponse<AckFailure[] | undefined>>;
  }
  export class MQConsumer {
    consumeMessage(numOfMessages: number, waitSeconds?: number): Promise<SdkResponse<SdkMessage[]>>;
    consumeMessageOrderly(numOfMessages: number, waitSeconds?: number): Promise<SdkResponse<SdkMessage[]>>;
    ackMessage(receiptHandles: string[]): Promise<SdkResponse<AckFailure[] | undefined>>;
  }
  export class MQClient {
    constructor(endpoint: string, accessKeyId: string, accessKeySecret: string, securityToken?: string);
    sign(method: string, headers: Record<string, string>, resource: string): string;
    getProducer(instanceId: string, topic: string): MQProducer;
    getTransProducer(instanceId: string, topic: string, groupId: string): MQTransProducer;
    getConsumer(instanceId: string, topic: string, consumer: string, messageTag?: string): MQConsumer;
  }
}
