// Bundles the dashboards into ../tb_plugin/static/index.js (one ES module, everything inlined:
// TensorBoard's CSP allows no CDN) and the Structure view's layout worker into graph_worker.js.
// With --tests, bundles every src/**/*.test.ts for `node --test` and fails when it finds none.
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

const loader = { ".css": "text" };

if (process.argv.includes("--tests")) {
  const entries = findTests("src").sort();
  if (!entries.length) {
    console.error("build.mjs --tests: no *.test.ts file under src/");
    process.exit(1);
  }
  rmSync("build-tests", { recursive: true, force: true });
  await build({
    entryPoints: entries,
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: "build-tests",
    outbase: "src",
    outExtension: { ".js": ".mjs" },
    loader,
    logLevel: "warning",
  });
  console.log(`build.mjs --tests: bundled ${entries.length} test files`);
} else {
  await build({
    entryPoints: ["src/index.ts"],
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    sourcemap: false,
    outfile: "../tb_plugin/static/index.js",
    loader,
    logLevel: "warning",
  });
  // the Structure view's layout worker: a classic script, served as one more allowlisted file
  // (TensorBoard's CSP allows workers only from same-origin script files, not blob: URLs)
  await build({
    entryPoints: ["src/views/graph/worker.ts"],
    bundle: true,
    format: "iife",
    target: "es2020",
    minify: true,
    sourcemap: false,
    outfile: "../tb_plugin/static/graph_worker.js",
    logLevel: "warning",
  });
}
