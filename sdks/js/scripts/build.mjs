// Compiles src/ twice: ES modules into dist/esm and CommonJS into dist/cjs, each with its declarations.
// A package.json in each folder tells Node which module system the .js files there use.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync(join(root, "dist"), { recursive: true, force: true });
for (const [config, folder, type] of [
  ["tsconfig.esm.json", "esm", "module"],
  ["tsconfig.cjs.json", "cjs", "commonjs"],
]) {
  execFileSync(process.execPath, [tsc, "-p", join(root, config)], { stdio: "inherit" });
  mkdirSync(join(root, "dist", folder), { recursive: true });
  writeFileSync(join(root, "dist", folder, "package.json"), JSON.stringify({ type }) + "\n");
}
