// Validate one glTF/GLB file with the Khronos glTF validator (npm `gltf-validator`) and print the
// report as JSON on stdout. Used by facecraft.rigs.exchange.validate.
// Usage: node tools/validate_gltf.mjs FILE [MAX_ISSUES]
// Exit codes: 0 report printed, 2 bad usage or unreadable file, 3 gltf-validator not installed
// (run `npm ci` in the checkout), 4 the validator rejected the input (not glTF/GLB at all).
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

const [file, maxIssuesArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node validate_gltf.mjs FILE [MAX_ISSUES]");
  process.exit(2);
}

let validator;
try {
  validator = (await import("gltf-validator")).default;
} catch (err) {
  console.error(`gltf-validator is not installed (run \`npm ci\` in the facecraft checkout): ${err.message}`);
  process.exit(3);
}

let bytes;
try {
  bytes = new Uint8Array(await readFile(file));
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}

try {
  const report = await validator.validateBytes(bytes, {
    uri: basename(file),
    maxIssues: Number(maxIssuesArg ?? 100),
    // GLBs written by facecraft are self-contained; an external URI is itself an error to report.
    externalResourceFunction: (uri) => Promise.reject(`external resource ${uri} not loaded`),
  });
  process.stdout.write(JSON.stringify(report));
} catch (err) {
  console.error(`validator rejected ${file}: ${err}`);
  process.exit(4);
}
