// Fails when an HTML sink (innerHTML, outerHTML, insertAdjacentHTML) appears anywhere in src/:
// user-supplied names (runs, tags, classes, tensors) reach the page only through textContent
// and attribute setters, since the iframe shares TensorBoard's origin.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML)\b/;

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

const root = process.argv[2] ?? "src";
const hits = [];
for (const path of files(root)) {
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (SINKS.test(line)) hits.push(`${path}:${i + 1}: ${line.trim()}`);
    });
}
if (hits.length) {
  console.error(`HTML sinks are not allowed in ${root}/ (use textContent or attributes):\n${hits.join("\n")}`);
  process.exit(1);
}
console.log(`check-html-sinks: no HTML sink in ${root}/`);
