export { Producer, type ProducerOptions, type SendOptions, type SendCallback } from "./producer.js";
export {
  TransactionProducer,
  type TransactionListener,
  type TransactionProducerOptions,
  type TransactionSendResult,
  type LocalTransactionState,
} from "./transaction-producer.js";
export { splitBatches, type SplitOptions } from "./batch.js";
export { selectMessageQueueByHash, javaStringHash, type MessageQueueSelector } from "./queue-selector.js";
export { PullConsumer, type PullConsumerOptions, type PullOptions, type PullResult } from "./pull-consumer.js";
export { Admin, type AdminOptions, type ClusterInfo } from "./admin.js";
export { bodyText, type Message, type MessageExt, type MessageQueue, type SendResult, type SendStatus, type PullStatus } from "./message.js";
export type { ClientOptions, CallOptions, FetchLike } from "./transport.js";
export { MQError, isMQError, ErrorCodes, type ErrorCode } from "../protocol/errors.js";
export { Limits } from "../protocol/limits.js";
export type { TopicRouteData, TopicConfig, BrokerData, QueueData } from "../protocol/route.js";
export { PushConsumer, type PushConsumerOptions } from "./push-consumer.js";
export { LitePullConsumer, type LitePullConsumerOptions } from "./lite-pull-consumer.js";
export { SimpleConsumer, type SimpleConsumerOptions, type ReceivedMessage, type AckStatus } from "./simple-consumer.js";
export { MessageSelector } from "./message-selector.js";
export { MemoryOffsetStore, LocalStorageOffsetStore, type OffsetStore } from "./offset-store.js";
export {
  concurrently,
  orderly,
  ConsumeConcurrentlyStatus,
  ConsumeOrderlyStatus,
  type ConsumeConcurrentlyContext,
  type ConsumeConcurrentlyFunction,
  type ConsumeOrderlyContext,
  type MessageListener,
  type MessageListenerConcurrently,
  type MessageListenerOrderly,
} from "./consume-types.js";
export type { MessageModel, ConsumeFromWhere, GroupInfo, GroupProgress, QueueProgress } from "../protocol/consumer.js";
export type { AllocateStrategyName } from "../protocol/allocate.js";
export type {
  PushSubscriptionRequest,
  PushSubscriptionInfo,
  PushSubscriptionProgress,
  PushQueueProgress,
  PushTarget,
  PushBatch,
  PushAnswer,
} from "../protocol/push-subscription.js";
export { verifyPushSignature, PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, type PushSignatureCheck } from "../protocol/push-signature.js";
