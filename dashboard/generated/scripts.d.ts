/**
 * The dashboard's browser code as one ES module per page, bundled by esbuild from
 * dashboard/app/ into scripts.js beside this file. scripts.js is generated, never committed:
 * `buildDashboard()` in scripts/build.ts writes it, which `npm run build`, `npm start`, the
 * test setups and wrangler's [build] step (before `wrangler dev` and `wrangler deploy`) run.
 * This declaration lets the Worker type-check before it exists.
 */

/** dashboard/app/main.ts and what it imports, served at GET /dashboard/app.js. */
export declare const dashboardScript: string;

/** dashboard/app/login.ts and what it imports, inlined into the sign-in page. */
export declare const loginScript: string;
