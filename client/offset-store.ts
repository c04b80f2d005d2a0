/**
 * Where a consumer keeps its offsets. CLUSTERING consumers use the broker (server side);
 * BROADCASTING consumers keep their own, here: in memory, in localStorage (browsers), or in
 * a file (Node: `client/node/file-offset-store.ts`), as RocketMQ's LocalFileOffsetStore.
 */
import type { MessageQueue } from "../protocol/message.js";

export interface OffsetStore {
  /** The stored offset of a queue, or undefined when there is none. */
  read(mq: MessageQueue): Promise<number | undefined>;
  update(mq: MessageQueue, offset: number): void;
  /** Writes updates through to the backing store. */
  persist(): Promise<void>;
}

export function queueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export class MemoryOffsetStore implements OffsetStore {
  protected readonly offsets = new Map<string, number>();

  async read(mq: MessageQueue): Promise<number | undefined> {
    return this.offsets.get(queueKey(mq));
  }

  update(mq: MessageQueue, offset: number): void {
    this.offsets.set(queueKey(mq), offset);
  }

  async persist(): Promise<void> {}
}

/** Browser store: one localStorage entry per group and client, as JSON. */
export class LocalStorageOffsetStore extends MemoryOffsetStore {
  private loaded = false;

  constructor(
    private readonly storageKey: string,
    private readonly storage: Pick<Storage, "getItem" | "setItem"> = globalThis.localStorage,
  ) {
    super();
  }

  override async read(mq: MessageQueue): Promise<number | undefined> {
    if (!this.loaded) {
      this.loaded = true;
      const text = this.storage.getItem(this.storageKey);
      if (text) for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, number>)) this.offsets.set(k, v);
    }
    return super.read(mq);
  }

  override async persist(): Promise<void> {
    this.storage.setItem(this.storageKey, JSON.stringify(Object.fromEntries(this.offsets)));
  }
}
