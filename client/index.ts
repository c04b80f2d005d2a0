export { Producer, type ProducerOptions, type SendOptions } from "./producer.js";
export { PullConsumer, type PullConsumerOptions, type PullOptions, type PullResult } from "./pull-consumer.js";
export { Admin, type AdminOptions, type ClusterInfo } from "./admin.js";
export { bodyText, type Message, type MessageExt, type MessageQueue, type SendResult, type SendStatus, type PullStatus } from "./message.js";
export type { ClientOptions, CallOptions, FetchLike } from "./transport.js";
export { MQError, isMQError, ErrorCodes, type ErrorCode } from "../protocol/errors.js";
export { Limits } from "../protocol/limits.js";
export type { TopicRouteData, TopicConfig, BrokerData, QueueData } from "../protocol/route.js";
