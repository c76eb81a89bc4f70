// Bundles the dashboards into ../tb_plugin/static/index.js (one ES module, everything inlined:
// TensorBoard's CSP allows no CDN). With --tests, bundles every src/**/*.test.ts for
// `node --test` and fails when it finds none.
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
}
