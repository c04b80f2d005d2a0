/**
 * What every view gets from the page (main.ts builds it): the project's own client, shared
 * lists for autocompletion, a confirmation dialog, and typed ways to open another view with
 * its form filled in. Views depend on this interface, never on each other.
 */
import type { Admin, Producer } from "../../client/index.js";

export type ViewName = "topics" | "groups" | "producers" | "dlq" | "search" | "send" | "transactions" | "cluster";

export interface View {
  readonly name: ViewName;
  /** The tab's label. */
  readonly label: string;
  readonly section: HTMLElement;
  /** Reloads what the view shows; views with it refresh on show and on the page's timer. */
  refresh?(): Promise<void>;
}

/** Opening a view from another, with its inputs filled in. */
export interface Navigate {
  send(topic: string): void;
  search(topic: string): void;
  findByOffsetMsgId(offsetMsgId: string): void;
  transactions(topic: string, producerGroup?: string): void;
}

export interface DashboardContext {
  admin: Admin;
  /** Sends the Send view's test messages (to one queue at a time). */
  producer: Producer;
  /** The auto-refresh period (`?refresh=<ms>` in the address; default 5000, at least 500). */
  refreshMs: number;
  topicList: HTMLDataListElement;
  groupList: HTMLDataListElement;
  /** Asks before a destructive operation; resolves true when the operator confirms. */
  confirm(question: string, action: string): Promise<boolean>;
  go: Navigate;
}
