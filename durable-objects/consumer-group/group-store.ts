/**
 * What a consumer-group object keeps in SQLite, so a restart (a deploy, a crash, an eviction)
 * does not look like every member leaving and joining again: the generation, the members as
 * they last described themselves, and the owner this object last told each queue.
 *
 * Writes happen only when something changes (a join, a changed member, an ownership move),
 * plus one "alive" timestamp per group at most once per ALIVE_WRITE_MS while members
 * heartbeat: a member's own heartbeat time is not written, so heartbeats cost no row each.
 */
import type { HeartbeatRequest } from "../../protocol/consumer.js";
import { applyMigrations } from "../shared/migrate.js";

/**
 * The group's `alive_at` moves at most this often. After a restart every member counts as
 * last heard at `alive_at`: a member that heartbeat just before the crash keeps nearly its
 * whole session, and one restored after a long outage is dropped at once.
 */
export const ALIVE_WRITE_MS = 1000;

const MIGRATIONS: readonly string[] = [
  // v1: generation and offset-reset sequence (the layout before versions existed).
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
  // v2: the group's name (an alarm after a restart tells queues about owners under it), the
  // members as they last described themselves (held queues excepted: they are reported again
  // at the next heartbeat), and the member each queue was last told is its owner.
  `CREATE TABLE IF NOT EXISTS identity (id INTEGER PRIMARY KEY CHECK (id = 0), grp TEXT NOT NULL);
   CREATE TABLE IF NOT EXISTS member (client_id TEXT PRIMARY KEY, request TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS queue_owner (queue TEXT PRIMARY KEY, client_id TEXT NOT NULL) WITHOUT ROWID;`,
  // v3: every topic the group consumed (members subscribed to it, or its POP receives named it),
  // so its progress still lists them once its members are gone.
  `CREATE TABLE group_topic (topic TEXT PRIMARY KEY) WITHOUT ROWID;`,
  // v4: the group's push subscription, if it has one (consumer-group/push-subscription.ts).
  `CREATE TABLE IF NOT EXISTS push_subscription (id INTEGER PRIMARY KEY CHECK (id = 0), config TEXT NOT NULL);`,
];

/**
 * A member as stored: its last request without the queues it holds and the generation it
 * reported, so a restored member counts as possibly still holding any queue it was given
 * (a queue moving away from it is handed over) until its next heartbeat says what it holds.
 * `heldQueues` stays as an empty list for a member that reports held queues at all.
 */
export type StoredMember = Omit<HeartbeatRequest, "generation">;

export interface GroupState {
  /** The group's name, "" until the first call named it. */
  name: string;
  generation: number;
  offsetResetSeq: number;
  /** The group consumes by POP (SimpleConsumer), not by offsets (push or pull members). */
  pop: boolean;
  /** Topics the group consumed: members subscribed to them, or its POP receives named them. */
  topics: string[];
  /** When a member last heartbeat (to ALIVE_WRITE_MS), 0 if never. */
  aliveAt: number;
  members: StoredMember[];
  /** Queue key → the member this object last told the queue owns it. */
  owners: Map<string, string>;
  /** The object stopped while telling queues their owners: a queue may name another than `owners`. */
  wasTelling: boolean;
}

export class GroupStore {
  private aliveAt = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Creates or upgrades the schema and reads everything back. */
  load(): GroupState {
    this.migrate();
    const meta = new Map<string, number>();
    for (const row of this.sql.exec<{ key: string; value: number }>("SELECT key, value FROM meta")) meta.set(row.key, row.value);
    this.aliveAt = meta.get("alive_at") ?? 0;
    const members = this.sql
      .exec<{ request: string }>("SELECT request FROM member ORDER BY client_id")
      .toArray()
      .map((r) => JSON.parse(r.request) as StoredMember);
    const owners = new Map<string, string>();
    for (const row of this.sql.exec<{ queue: string; client_id: string }>("SELECT queue, client_id FROM queue_owner")) {
      owners.set(row.queue, row.client_id);
    }
    return {
      name: this.sql.exec<{ grp: string }>("SELECT grp FROM identity").toArray()[0]?.grp ?? "",
      generation: meta.get("generation") ?? 0,
      offsetResetSeq: meta.get("offset_reset_seq") ?? 0,
      pop: meta.get("pop") === 1,
      topics: this.sql
        .exec<{ topic: string }>("SELECT topic FROM group_topic ORDER BY topic")
        .toArray()
        .map((r) => r.topic),
      aliveAt: this.aliveAt,
      members,
      owners,
      wasTelling: meta.has("telling"),
    };
  }

  saveName(name: string): void {
    this.sql.exec("INSERT OR REPLACE INTO identity (id, grp) VALUES (0, ?)", name);
  }

  saveMeta(key: "generation" | "offset_reset_seq" | "pop", value: number): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  saveTopic(topic: string): void {
    this.sql.exec("INSERT OR IGNORE INTO group_topic (topic) VALUES (?)", topic);
  }

  clearTopics(): void {
    this.sql.exec("DELETE FROM group_topic");
  }

  /** Marks the span in which queues are being told their owners (and a restart must tell them again). */
  saveTelling(on: boolean): void {
    if (on) this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('telling', 1)");
    else this.sql.exec("DELETE FROM meta WHERE key = 'telling'");
  }

  /** Records that members were heard at `now`, at most once per ALIVE_WRITE_MS. */
  touch(now: number): void {
    if (now - this.aliveAt < ALIVE_WRITE_MS) return;
    this.aliveAt = now;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alive_at', ?)", now);
  }

  saveMember(member: StoredMember): void {
    this.sql.exec("INSERT OR REPLACE INTO member (client_id, request) VALUES (?, ?)", member.clientId, JSON.stringify(member));
  }

  deleteMember(clientId: string): void {
    this.sql.exec("DELETE FROM member WHERE client_id = ?", clientId);
  }

  saveOwner(queue: string, clientId: string | null): void {
    if (clientId === null) this.sql.exec("DELETE FROM queue_owner WHERE queue = ?", queue);
    else this.sql.exec("INSERT OR REPLACE INTO queue_owner (queue, client_id) VALUES (?, ?)", queue, clientId);
  }

  private migrate(): void {
    applyMigrations(this.sql, MIGRATIONS, "meta");
  }
}

/** What is stored of a member (see StoredMember); a change of only what is left out writes nothing. */
export function storedMember(req: HeartbeatRequest): StoredMember {
  const { heldQueues, generation: _generation, ...rest } = req;
  return heldQueues === undefined ? rest : { ...rest, heldQueues: [] };
}
