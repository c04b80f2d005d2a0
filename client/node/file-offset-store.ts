/**
 * Node-only offset store for BROADCASTING consumers: a JSON file per client and group, written
 * atomically (temp file and rename) with a `.bak` copy, as RocketMQ's LocalFileOffsetStore
 * (`~/.rocketmq_offsets/<clientId>/<group>/offsets.json`).
 */
import { mkdir, readFile, rename, writeFile, copyFile } from "node:fs/promises";
import path from "node:path";
import { MemoryOffsetStore } from "../offset-store.js";
import type { MessageQueue } from "../../protocol/message.js";

export class FileOffsetStore extends MemoryOffsetStore {
  private loaded = false;

  constructor(private readonly file: string) {
    super();
  }

  static forGroup(dir: string, clientId: string, group: string): FileOffsetStore {
    return new FileOffsetStore(path.join(dir, clientId.replace(/[^A-Za-z0-9_.@-]/g, "_"), group, "offsets.json"));
  }

  override async read(mq: MessageQueue): Promise<number | undefined> {
    if (!this.loaded) {
      this.loaded = true;
      for (const candidate of [this.file, `${this.file}.bak`]) {
        try {
          const data = JSON.parse(await readFile(candidate, "utf8")) as Record<string, number>;
          for (const [k, v] of Object.entries(data)) this.offsets.set(k, v);
          break;
        } catch {
          // missing or torn: try the backup
        }
      }
    }
    return super.read(mq);
  }

  override async persist(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.offsets)));
    await copyFile(tmp, `${this.file}.bak`);
    await rename(tmp, this.file);
  }
}
