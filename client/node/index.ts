/**
 * The Node-only extras of the client (`import … from "flaremq/node"`): what needs Node's file
 * system. The main entry runs unchanged in browsers and Workers.
 */
export { FileOffsetStore } from "./file-offset-store.js";
