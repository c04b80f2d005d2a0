/** The dashboard's stylesheet, inlined into the page by page.ts (the views in dashboard/app/ use its classes). */
export const dashboardCss = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f9; --fg: #1d1f24; --muted: #6b7080; --line: #d9dbe3; --panel: #fff;
  --accent: #d8581c; --err-bg: #fdecea; --err-fg: #8a1c12; --ok: #1f7a3a;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #15171c; --fg: #e4e6eb; --muted: #9aa0ad; --line: #2f333d; --panel: #1c1f26; --err-bg: #3b1714; --err-fg: #ffb4a9; --ok: #6fd38e; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; padding: 8px 16px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0; color: var(--accent); }
nav { display: flex; gap: 4px; flex-wrap: wrap; }
nav button { border: 1px solid transparent; background: none; color: var(--fg); padding: 6px 10px; border-radius: 6px; cursor: pointer; font: inherit; }
nav button[aria-selected="true"] { border-color: var(--line); background: var(--bg); font-weight: 600; }
#refresh-status { margin-left: auto; color: var(--muted); font-size: 12px; }
main { padding: 12px 16px 40px; }
[hidden] { display: none !important; } /* also over the flex rules of forms and bars */
h2 { font-size: 15px; margin: 16px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
form, .bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
form fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 0; }
legend { color: var(--muted); font-size: 12px; padding: 0 4px; }
input, select, textarea, button { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; }
button { cursor: pointer; }
input.narrow { width: 6em; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.link { border: none; background: none; color: var(--accent); padding: 0 4px; }
button.danger { border-color: var(--err-fg); color: var(--err-fg); }
.choices { display: inline-flex; gap: 8px; flex-wrap: wrap; }
.session { font-size: 12px; color: var(--muted); }
dialog { border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--fg); max-width: 36em; }
dialog::backdrop { background: rgb(0 0 0 / 30%); }
textarea { width: min(640px, 100%); min-height: 70px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; width: 100%; background: var(--panel); border: 1px solid var(--line); }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; white-space: nowrap; position: sticky; top: 45px; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
td.row-error { color: var(--err-fg); font-size: 12px; }
tr.clickable { cursor: pointer; }
tr.clickable:hover, tr.selected { background: color-mix(in srgb, var(--accent) 10%, transparent); }
.error { background: var(--err-bg); color: var(--err-fg); border-radius: 4px; padding: 6px 10px; margin: 8px 0; white-space: pre-wrap; }
.error[hidden] { display: none; }
.muted { color: var(--muted); }
.ok { color: var(--ok); }
.summary { margin: 6px 0; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; word-break: break-all; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.chart-box { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 6px; max-width: 640px; }
#lag-chart { width: 100%; height: 120px; display: block; }
#lag-chart polyline { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
#lag-chart circle { fill: var(--accent); }
#lag-chart line { stroke: var(--line); }
#rate-chart { width: 100%; height: 120px; display: block; }
#rate-chart line { stroke: var(--line); }
#rate-chart polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0; padding: 0; font-size: 12px; }
.legend li { display: flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
#rate-chart .s0 { stroke: #d8581c; } .swatch.s0 { background: #d8581c; }
#rate-chart .s1 { stroke: #2b7bd6; } .swatch.s1 { background: #2b7bd6; }
#rate-chart .s2 { stroke: #2e9e5b; } .swatch.s2 { background: #2e9e5b; }
#rate-chart .s3 { stroke: #9b51c9; } .swatch.s3 { background: #9b51c9; }
#rate-chart .s4 { stroke: #c9a21a; } .swatch.s4 { background: #c9a21a; }
#rate-chart .s5 { stroke: #1aa3b0; } .swatch.s5 { background: #1aa3b0; }
`;
