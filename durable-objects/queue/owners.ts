/**
 * Which member of each consumer group owns this queue, as its group object decided. Pulls and
 * commits that carry a member fence are refused unless they come from the owner, so after a
 * rebalance a queue is read by at most one member of a clustering group.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { MemberFence } from "../../protocol/consumer.js";

interface Owner {
  clientId: string;
  generation: number;
}

/** A release is kept with its generation (clientId null, stored as ""), so a late older owner cannot undo it. */
interface Entry {
  clientId: string | null;
  generation: number;
}

export class Owners {
  private readonly owners = new Map<string, Entry>();

  constructor(private readonly sql: SqlStorage) {
    for (const row of sql.exec<{ grp: string; client_id: string; generation: number }>("SELECT * FROM queue_owner")) {
      this.owners.set(row.grp, { clientId: row.client_id === "" ? null : row.client_id, generation: row.generation });
    }
  }

  set(group: string, clientId: string | null, generation: number): void {
    const current = this.owners.get(group);
    // A late update from an older generation must not undo a newer one (a release included).
    if (current && current.generation > generation) return;
    if (current && current.clientId === clientId && current.generation === generation) return;
    this.owners.set(group, { clientId, generation });
    this.sql.exec("INSERT OR REPLACE INTO queue_owner (grp, client_id, generation) VALUES (?, ?, ?)", group, clientId ?? "", generation);
  }

  get(group: string): Owner | undefined {
    const entry = this.owners.get(group);
    return entry && entry.clientId !== null ? { clientId: entry.clientId, generation: entry.generation } : undefined;
  }

  /** Throws NOT_QUEUE_OWNER unless `fence` names the owner (a queue no one owns is open). */
  check(group: string | undefined, fence: MemberFence | undefined): void {
    if (!group || !fence) return;
    const owner = this.get(group);
    if (!owner) return;
    if (owner.clientId !== fence.clientId || fence.generation < owner.generation) {
      throw toRpcError("NOT_QUEUE_OWNER", `this queue belongs to another member of group "${group}" since generation ${owner.generation}; rebalance`);
    }
  }

  clear(): void {
    this.owners.clear();
  }
}
