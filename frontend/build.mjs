// Bundles the dashboards into ../tb_plugin/static/index.js (one ES module, everything inlined:
// TensorBoard's CSP allows no CDN). With --tests, bundles test/*.test.ts for `node --test`.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const tests = process.argv.includes("--tests");
if (tests) {
  const entries = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
  await build({
    entryPoints: entries,
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: "build-tests",
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: ["src/index.ts"],
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    sourcemap: false,
    outfile: "../tb_plugin/static/index.js",
    logLevel: "warning",
  });
}
