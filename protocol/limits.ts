/** Every limit the edge enforces, in one place, documented in docs/limits.md. */
export const Limits = {
  /** Broker names a deployment registers at most (each one heartbeats, and costs, forever). */
  maxBrokers: 64,
  /** Largest message body, as RocketMQ's maxMessageSize. */
  maxBodyBytes: 4 * 1024 * 1024,
  /** Largest encoded properties block (tags, keys and user properties), as RocketMQ's Short.MAX_VALUE. */
  maxPropertiesBytes: 32 * 1024,
  /** Largest total of bodies in one send request. */
  maxBatchBodyBytes: 4 * 1024 * 1024,
  /** Most messages in one send request. */
  maxBatchCount: 1024,
  /**
   * Queue entries in one multi-queue send (POST /topics/:topic/messages). The Worker calls every
   * named queue object in parallel, so this bounds one request's fan-out (Cloudflare allows a
   * Worker invocation 1000 subrequests); the message count and body bytes are capped as a batch's.
   */
  maxSendQueues: 64,
  /** Largest HTTP request body the edge reads (a 4 MiB body in base64 plus its metadata). */
  maxRequestBytes: 6 * 1024 * 1024,
  /** Total size of request headers the edge accepts. */
  maxHeaderBytes: 32 * 1024,
  /** Topic name length, as RocketMQ's Validators. */
  maxTopicLength: 127,
  /** Group name length, as RocketMQ's Validators. */
  maxGroupLength: 255,
  /** Most messages one pull returns (RocketMQ's maxTransferCountOnMessageInMemory). */
  maxPullNums: 32,
  /** A pull returns at most this many body bytes (at least one message always). */
  maxPullBytes: 4 * 1024 * 1024,
  /** Most messages one SimpleConsumer receive returns (RocketMQ 5.x's maxMessageNum). */
  maxReceiveNum: 32,
  /** Longest a SimpleConsumer receive waits for a message (RocketMQ 5.x's long-polling timeout). */
  maxReceiveWaitMs: 20_000,
  /** Shortest and longest invisible duration of a received message (RocketMQ 5.x's bounds). */
  minInvisibleDurationMs: 10_000,
  maxInvisibleDurationMs: 12 * 3600_000,
  /** Receipt handles one ack call takes, and the longest handle. */
  maxAckHandles: 1024,
  maxReceiptHandleLength: 2048,
  /** Received and unacked messages one group holds per queue; a receive hands out no new ones past it. */
  maxInflightPerQueue: 2048,
  /** Most messages one push-subscription batch carries (Cloudflare Queues' max_batch_size). */
  maxPushBatchSize: 100,
  /** Longest a push subscription waits to fill a batch (Cloudflare Queues' max_batch_timeout: 60 s). */
  maxPushBatchTimeoutMs: 60_000,
  /** Most batches a push subscription has in flight at once on one queue. */
  maxPushConcurrency: 10,
  /** Longest a push target may take to answer a batch before the batch counts as failed. */
  maxPushTimeoutMs: 120_000,
  /** Longest fixed retry delay a push subscription may set (Cloudflare Queues' retry_delay: 12 h). */
  maxPushRetryDelayMs: 12 * 60 * 60 * 1000,
  /** Failed messages waiting for their retry per push subscription and queue; past it no new messages go out. */
  maxPushRetryBacklog: 1000,
  /** Body bytes one push batch carries at most (at least one message always). */
  maxPushBatchBytes: 4 * 1024 * 1024,
  /** Default and largest long-poll hold. */
  defaultPullWaitMs: 15_000,
  maxPullWaitMs: 30_000,
  /** Queues per broker for one topic. */
  maxQueueNums: 1024,
  /** Parked pulls one queue holds at a time; more are refused with TOO_MANY_WAITERS. */
  maxWaitersPerQueue: 1000,
  /**
   * Send and pull channels one queue holds at a time, shared fairly between accounts; more are
   * refused with TOO_MANY_CHANNELS. As many as parked long polls: every parked pull channel is
   * read again at every append.
   */
  maxChannelsPerQueue: 1000,
  /** Tag length and tag expression length. */
  maxTagLength: 255,
  maxExpressionLength: 4096,
  /** Subscriptions one consumer may declare. */
  maxSubscriptions: 64,
  /** Queues a member may report it still reads (heartbeat `heldQueues`); CONFIG `configuredQueues` take maxQueueNums. */
  maxHeldQueues: 16_384,
  /** Broker name length (configuration, but it travels in URLs and heartbeats). */
  maxBrokerNameLength: 64,
  /** Members of one consumer group. */
  maxGroupMembers: 1000,
  /**
   * What a group's members together describe (subscriptions, configured queues and the held
   * queues the group keeps, as JSON bytes): the group object holds all of it in memory, so it
   * must stay well below a Durable Object's 128 MB.
   */
  maxGroupBytes: 8 * 1024 * 1024,
  /** Session timeout bounds a member may ask for (default 120 s as RocketMQ). */
  minSessionTimeoutMs: 3000,
  maxSessionTimeoutMs: 300_000,
  /** Message id length (client unique keys). */
  maxMsgIdLength: 128,
} as const;
