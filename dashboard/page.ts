/**
 * The dashboard page: an HTML shell with the stylesheet inline and the script
 * (dashboard/app/main.ts, bundled) loaded from GET /dashboard/app.js; the script builds the
 * views. Both tags carry CSP_NONCE_PLACEHOLDER, which routes.ts replaces with a fresh nonce
 * (also in the Content-Security-Policy header) on every request, so no inline script runs.
 */
import { dashboardCss } from "./style.js";

export const CSP_NONCE_PLACEHOLDER = "__FLAREMQ_CSP_NONCE__";
const DASHBOARD_SCRIPT_PATH = "/dashboard/app.js";

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
<noscript>The dashboard needs JavaScript.</noscript>
<script type="module" src="${DASHBOARD_SCRIPT_PATH}" nonce="${CSP_NONCE_PLACEHOLDER}"></script>
</body>
</html>
`;
