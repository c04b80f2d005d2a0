/** Every noun the CLI knows, in the order help lists them. */
import type { Noun } from "../command.js";
import { account } from "./account.js";
import { cluster } from "./cluster.js";
import { dlq } from "./dlq.js";
import { group } from "./group.js";
import { message } from "./message.js";
import { push } from "./push.js";
import { topic } from "./topic.js";
import { transaction } from "./transaction.js";

export const commands: Readonly<Record<string, Noun>> = { topic, cluster, group, push, message, dlq, transaction, account };
