/**
 * The dashboard page: one HTML document with its CSS and a module script inline, served by
 * the Worker at GET /dashboard. The script reads the REST API on the same origin only.
 *
 * The script tag carries CSP_NONCE_PLACEHOLDER; routes.ts puts a fresh nonce there (and in
 * the Content-Security-Policy header) on every request.
 */
import { dashboardScript } from "./script.js";
import { dashboardCss } from "./style.js";

export const CSP_NONCE_PLACEHOLDER = "__FLAREMQ_CSP_NONCE__";

const html = String.raw;

const body = html`
<header>
  <h1>flaremq</h1>
  <nav role="tablist" aria-label="views">
    <button type="button" role="tab" data-tab="topics" data-testid="tab-topics">Topics</button>
    <button type="button" role="tab" data-tab="groups" data-testid="tab-groups">Consumer groups</button>
    <button type="button" role="tab" data-tab="dlq" data-testid="tab-dlq">Dead letters</button>
    <button type="button" role="tab" data-tab="search" data-testid="tab-search">Message search</button>
    <button type="button" role="tab" data-tab="send" data-testid="tab-send">Send</button>
    <button type="button" role="tab" data-tab="transactions" data-testid="tab-transactions">Transactions</button>
    <button type="button" role="tab" data-tab="cluster" data-testid="tab-cluster">Cluster</button>
  </nav>
  <label class="muted"><input type="checkbox" id="auto-refresh" data-testid="auto-refresh" checked> auto refresh</label>
  <span id="refresh-status" data-testid="refresh-status"></span>
</header>
<datalist id="topic-list"></datalist>
<datalist id="group-list"></datalist>
<main>
  <section id="view-topics" data-view="topics" data-testid="view-topics">
    <div class="bar">
      <input id="topics-filter" data-testid="topics-filter" type="search" placeholder="filter topics" aria-label="filter topics">
      <label><input type="checkbox" id="topics-system" data-testid="topics-system"> retry and DLQ topics</label>
      <button type="button" id="topics-refresh" data-testid="topics-refresh">Refresh</button>
      <span id="topics-count" class="muted" data-testid="topics-count"></span>
    </div>
    <div class="error" id="topics-error" data-testid="topics-error" role="alert" hidden></div>
    <table id="topics-table" data-testid="topics-table">
      <thead><tr>
        <th>Topic</th><th>Brokers</th><th class="num">Read queues</th><th class="num">Write queues</th><th>Perm</th>
        <th class="num">Messages</th><th class="num">Max offset</th><th class="num">Rate msgs/s</th><th>Last store</th>
        <th class="num">Storage</th><th></th><th></th>
      </tr></thead>
      <tbody id="topics-body"></tbody>
    </table>
  </section>

  <section id="view-groups" data-view="groups" data-testid="view-groups" hidden>
    <form id="group-form" data-testid="group-form">
      <input id="group-name" data-testid="group-name" list="group-list" placeholder="consumer group" aria-label="consumer group" required>
      <input id="group-topic" data-testid="group-topic" list="topic-list" placeholder="topic (optional)" aria-label="topic">
      <button type="submit" class="primary" data-testid="group-show">Show</button>
      <button type="button" id="groups-refresh" data-testid="groups-refresh">Refresh</button>
      <span id="groups-count" class="muted" data-testid="groups-count"></span>
    </form>
    <div class="error" id="groups-error" data-testid="groups-error" role="alert" hidden></div>
    <table id="groups-table" data-testid="groups-table">
      <thead><tr><th>Group</th><th>Last seen</th><th class="num">Members</th><th class="num">Generation</th><th class="num">Total lag</th><th></th></tr></thead>
      <tbody id="groups-body"></tbody>
    </table>
    <div id="group-detail" data-testid="group-detail" hidden>
      <h2 id="group-title" data-testid="group-title"></h2>
      <div id="group-meta" class="muted" data-testid="group-meta"></div>
      <div class="error" id="group-error" data-testid="group-error" role="alert" hidden></div>
      <h3>Lag</h3>
      <div class="summary">Total lag: <b id="group-total-lag" data-testid="group-total-lag"></b></div>
      <div class="chart-box">
        <svg id="lag-chart" data-testid="lag-chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="total lag over time">
          <line x1="0" y1="114" x2="600" y2="114"></line>
          <polyline points=""></polyline>
          <circle r="0"></circle>
        </svg>
        <div id="lag-chart-caption" class="muted" data-testid="lag-chart-caption"></div>
      </div>
      <table id="lag-table" data-testid="lag-table">
        <thead><tr><th>Topic</th><th>Broker</th><th class="num">Queue</th><th class="num">Broker offset</th><th class="num">Consumer offset</th><th class="num">Lag</th><th>Last store</th></tr></thead>
        <tbody id="lag-body"></tbody>
      </table>
      <h3>Members</h3>
      <table id="members-table" data-testid="members-table">
        <thead><tr><th>Client id</th><th>Model</th><th>Subscriptions</th><th class="num">Queues</th><th>Last heartbeat</th></tr></thead>
        <tbody id="members-body"></tbody>
      </table>
    </div>
  </section>

  <section id="view-dlq" data-view="dlq" data-testid="view-dlq" hidden>
    <form id="dlq-form" data-testid="dlq-form">
      <input id="dlq-group" data-testid="dlq-group" list="group-list" placeholder="consumer group" aria-label="consumer group" required>
      <label>max <input id="dlq-max" data-testid="dlq-max" type="number" min="1" max="1000" value="50" class="narrow"></label>
      <button type="submit" class="primary" data-testid="dlq-load">Load</button>
      <button type="button" id="dlq-resend" data-testid="dlq-resend">Resend selected</button>
      <span id="dlq-resend-result" class="ok" data-testid="dlq-resend-result"></span>
    </form>
    <div class="error" id="dlq-error" data-testid="dlq-error" role="alert" hidden></div>
    <div id="dlq-summary" class="summary muted" data-testid="dlq-summary"></div>
    <table id="dlq-table" data-testid="dlq-table">
      <thead><tr>
        <th><input type="checkbox" id="dlq-all" data-testid="dlq-all" aria-label="select all"></th>
        <th>offsetMsgId</th><th>msgId</th><th>Original topic</th><th>Tags</th><th>Keys</th><th class="num">Reconsumed</th><th>Stored</th><th>Body</th>
      </tr></thead>
      <tbody id="dlq-body"></tbody>
    </table>
  </section>

  <section id="view-search" data-view="search" data-testid="view-search" hidden>
    <form id="search-offset-form" data-testid="search-offset-form">
      <fieldset><legend>by offsetMsgId</legend>
        <input id="search-offset-id" data-testid="search-offset-id" placeholder="offsetMsgId" aria-label="offsetMsgId" size="40" required>
        <button type="submit" class="primary" data-testid="search-offset-submit">Find</button>
      </fieldset>
    </form>
    <form id="search-msgid-form" data-testid="search-msgid-form">
      <fieldset><legend>by topic and msgId</legend>
        <input id="search-msgid-topic" data-testid="search-msgid-topic" list="topic-list" placeholder="topic" aria-label="topic" required>
        <input id="search-msgid-id" data-testid="search-msgid-id" placeholder="msgId" aria-label="msgId" size="36" required>
        <button type="submit" class="primary" data-testid="search-msgid-submit">Find</button>
      </fieldset>
    </form>
    <form id="search-key-form" data-testid="search-key-form">
      <fieldset><legend>by topic and key</legend>
        <input id="search-key-topic" data-testid="search-key-topic" list="topic-list" placeholder="topic" aria-label="topic" required>
        <input id="search-key" data-testid="search-key" placeholder="key" aria-label="key" required>
        <label>from <input id="search-key-begin" data-testid="search-key-begin" type="datetime-local" step="1"></label>
        <label>to <input id="search-key-end" data-testid="search-key-end" type="datetime-local" step="1"></label>
        <label>max <input id="search-key-max" data-testid="search-key-max" type="number" min="1" max="1000" value="32" class="narrow"></label>
        <button type="submit" class="primary" data-testid="search-key-submit">Find</button>
      </fieldset>
    </form>
    <div class="error" id="search-error" data-testid="search-error" role="alert" hidden></div>
    <div id="search-summary" class="summary muted" data-testid="search-summary"></div>
    <table id="search-table" data-testid="search-table">
      <thead><tr><th>Topic</th><th>Queue</th><th class="num">Offset</th><th>msgId</th><th>offsetMsgId</th><th>Tags</th><th>Keys</th><th>Stored</th><th>Body</th></tr></thead>
      <tbody id="search-body"></tbody>
    </table>
    <pre id="message-detail" data-testid="message-detail" hidden></pre>
  </section>

  <section id="view-send" data-view="send" data-testid="view-send" hidden>
    <form id="send-form" data-testid="send-form">
      <input id="send-topic" data-testid="send-topic" list="topic-list" placeholder="topic" aria-label="topic" required>
      <input id="send-tags" data-testid="send-tags" placeholder="tags (optional)" aria-label="tags">
      <input id="send-keys" data-testid="send-keys" placeholder="keys, space separated (optional)" aria-label="keys" size="30">
      <textarea id="send-body" data-testid="send-body" placeholder="message body (UTF-8 text)" aria-label="body"></textarea>
      <button type="submit" id="send-submit" class="primary" data-testid="send-submit">Send</button>
    </form>
    <div class="muted">Queues are chosen round-robin over the topic's writable queues.</div>
    <div class="error" id="send-error" data-testid="send-error" role="alert" hidden></div>
    <dl id="send-result" class="kv" data-testid="send-result" hidden></dl>
    <ol id="send-history" data-testid="send-history" reversed></ol>
  </section>

  <section id="view-transactions" data-view="transactions" data-testid="view-transactions" hidden>
    <form id="tx-form" data-testid="tx-form">
      <input id="tx-topic" data-testid="tx-topic" list="topic-list" placeholder="topic" aria-label="topic" required>
      <select id="tx-state" data-testid="tx-state" aria-label="state">
        <option>PENDING</option><option>COMMITTED</option><option>ROLLED_BACK</option><option>GIVEN_UP</option>
      </select>
      <button type="submit" class="primary" data-testid="tx-load">Load</button>
    </form>
    <div class="error" id="tx-error" data-testid="tx-error" role="alert" hidden></div>
    <div id="tx-summary" class="summary muted" data-testid="tx-summary"></div>
    <table id="tx-table" data-testid="tx-table">
      <thead><tr><th>Transaction id</th><th>Producer group</th><th>Queue</th><th>State</th><th>Born</th><th class="num">Checks</th><th>Next check</th></tr></thead>
      <tbody id="tx-body"></tbody>
    </table>
  </section>

  <section id="view-cluster" data-view="cluster" data-testid="view-cluster" hidden>
    <div class="bar">
      <button type="button" id="cluster-refresh" data-testid="cluster-refresh">Refresh</button>
      <span id="cluster-summary" class="muted" data-testid="cluster-summary"></span>
    </div>
    <div class="error" id="cluster-error" data-testid="cluster-error" role="alert" hidden></div>
    <table id="cluster-table" data-testid="cluster-table">
      <thead><tr>
        <th>Broker</th><th class="num">Id</th><th>Role</th><th>State</th><th class="num">Last heartbeat</th><th>Perm</th>
        <th class="num">Topics</th><th class="num">Replication lag</th><th>Last ack</th><th>Address</th><th></th>
      </tr></thead>
      <tbody id="cluster-body"></tbody>
    </table>
    <div id="cluster-replication-note" class="muted" data-testid="cluster-replication-note"></div>
    <h3>NameServers</h3>
    <ul id="cluster-nameservers" class="mono" data-testid="cluster-nameservers"></ul>
  </section>
</main>
`;

/** The page, with CSP_NONCE_PLACEHOLDER where the per-request nonce goes. */
export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flaremq dashboard</title>
<link rel="icon" href="data:,">
<style nonce="${CSP_NONCE_PLACEHOLDER}">${dashboardCss}</style>
</head>
<body>
${body}
<script type="module" nonce="${CSP_NONCE_PLACEHOLDER}">${dashboardScript}</script>
</body>
</html>
`;
