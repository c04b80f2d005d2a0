/**
 * Cluster: every broker member with its role, state, heartbeat age, permission (drained or
 * not), topic count and replication lag, and the NameServer instances (mqadmin clusterList).
 */
import type { ClusterInfo } from "../../../client/index.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, noteRow, showError, table } from "../dom.js";
import { byKey, fmtAgo, fmtInt, fmtTime, plural } from "../format.js";

const PERM_WRITE = 2;

export class ClusterView implements View {
  readonly name = "cluster";
  readonly label = "Cluster";
  readonly section: HTMLElement;
  private readonly summary = h("span", { class: "muted", "data-testid": "cluster-summary" });
  private readonly error = errorBox("cluster-error");
  private readonly body = h("tbody");
  private readonly replicationNote = h("div", { class: "muted", "data-testid": "cluster-replication-note" });
  private readonly nameServers = h("ul", { class: "mono", "data-testid": "cluster-nameservers" });

  constructor(private readonly ctx: DashboardContext) {
    const headers = ["Broker", "Id", "Role", "State", "Last heartbeat", "Perm", "Topics", "Replication lag", "Last ack", "Address", ""];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-cluster" },
      h(
        "div",
        { class: "bar" },
        h("button", { type: "button", "data-testid": "cluster-refresh", onclick: () => void this.refresh() }, "Refresh"),
        this.summary,
      ),
      this.error,
      table("cluster-table", headers, this.body, ["Id", "Last heartbeat", "Topics", "Replication lag"]),
      this.replicationNote,
      h("h3", null, "NameServers"),
      this.nameServers,
    );
  }

  async refresh(): Promise<void> {
    let info: ClusterInfo;
    try {
      info = await this.ctx.admin.clusterInfo();
      clearError(this.error);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    const brokers = [...info.brokers].sort(byKey((b) => b.brokerName));
    const now = Date.now();
    const rows: HTMLTableRowElement[] = [];
    let partial = 0;
    for (const b of brokers) {
      const ids = Object.keys(b.brokerIds).sort((x, y) => Number(x) - Number(y));
      const slaves = b.replication?.slaves ?? [];
      if (b.replication?.partial) partial++;
      const writable = (b.permission & PERM_WRITE) === PERM_WRITE;
      for (const id of ids) {
        // Each member registers on its own: its own heartbeat and state.
        const member = b.members.find((m) => String(m.brokerId) === id) ?? { alive: b.alive, lastUpdateTimestamp: b.lastUpdateTimestamp };
        const ageS = member.lastUpdateTimestamp > 0 ? Math.max(0, Math.round((now - member.lastUpdateTimestamp) / 1000)) : null;
        const isMaster = Number(id) === 0;
        const slave = isMaster ? undefined : slaves.find((x) => x.brokerId === Number(id));
        const lagMessages = typeof slave?.lagMessages === "number" ? slave.lagMessages : null;
        // The lag is for admins only (null replication for other accounts).
        const lag = isMaster ? "-" : b.replication === null ? "admin only" : lagMessages !== null ? fmtInt(lagMessages) : "unknown";
        const ack = isMaster ? "-" : slave?.oldestAckAt ? fmtAgo(slave.oldestAckAt) : "—";
        const notes = slave && slave.failingQueues > 0 ? `${plural(slave.failingQueues, "queue")} failing replication` : "";
        rows.push(
          h(
            "tr",
            { "data-testid": "cluster-row", "data-broker": b.brokerName, "data-broker-id": id, "data-alive": String(member.alive) },
            h("td", { class: "mono", "data-col": "broker" }, b.brokerName),
            h("td", { class: "num", "data-col": "brokerId" }, id),
            h("td", { "data-col": "role" }, b.brokerIds[id] ?? ""),
            h("td", { "data-col": "state", class: member.alive ? "ok" : "row-error" }, member.alive ? "alive" : "EXPIRED"),
            h(
              "td",
              { class: "num", "data-col": "heartbeat", "data-age-seconds": ageS === null ? null : String(ageS), title: fmtTime(member.lastUpdateTimestamp) },
              ageS === null ? "—" : `${ageS} s`,
            ),
            h("td", { "data-col": "perm", "data-permission": String(b.permission) }, writable ? "rw" : "r (drained)"),
            h("td", { class: "num", "data-col": "topics", title: b.topics.join("\n") }, String(b.topicCount)),
            h("td", { class: "num", "data-col": "lag", "data-lag": lagMessages === null ? null : String(lagMessages) }, lag),
            h("td", { "data-col": "ack", title: slave?.oldestAckAt ? fmtTime(slave.oldestAckAt) : null }, ack),
            h("td", { class: "mono", "data-col": "address" }, b.brokerAddrs[id] ?? ""),
            h("td", { class: "row-error", "data-col": "error" }, notes),
          ),
        );
      }
    }
    this.body.replaceChildren(...(rows.length ? rows : [noteRow(11, "no brokers registered")]));
    this.summary.textContent =
      `cluster ${info.clusterName} · ${plural(brokers.length, "broker")}, ${plural(rows.length, "member")}` +
      ` · heartbeat every ${info.brokerHeartbeatIntervalMs / 1000} s, expiry ${info.brokerExpiryMs / 1000} s` +
      ` · autoCreateTopicEnable ${info.autoCreateTopicEnable}`;
    this.replicationNote.textContent = partial
      ? `Replication lag of ${plural(partial, "broker")} is from a subset of queues (too many to ask each refresh).`
      : "";
    const names = info.nameServers.map((name) => h("li", { "data-testid": "nameserver", "data-nameserver": name }, name));
    this.nameServers.replaceChildren(...(names.length ? names : [h("li", { class: "muted" }, "none")]));
    this.section.dataset.loadedAt = String(now);
  }
}
