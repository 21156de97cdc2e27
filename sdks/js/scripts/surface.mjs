// Prints the SDK's API surface as JSON for the contract test (tests/sdks/test_contract.py): the operation
// and error tables the built package uses at run time, and, read from the TypeScript source with the
// compiler's own parser, every exported interface's fields and every string-literal union.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as sdk from "../dist/esm/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const interfaces = {};
const unions = {};
let listParams = [];
for (const file of ["models.ts", "client.ts"]) {
  const source = ts.createSourceFile(file, readFileSync(join(root, "src", file), "utf8"), ts.ScriptTarget.ES2022, true);
  for (const node of source.statements) {
    if (ts.isInterfaceDeclaration(node)) {
      const members = node.members.filter(ts.isPropertySignature);
      interfaces[node.name.text] = {
        fields: members.map((m) => m.name.getText(source)),
        required: members.filter((m) => !m.questionToken).map((m) => m.name.getText(source)),
        types: Object.fromEntries(members.map((m) => [m.name.getText(source), m.type?.getText(source) ?? ""])),
      };
    } else if (ts.isClassDeclaration(node)) {
      const method = node.members.find((m) => ts.isMethodDeclaration(m) && m.name.getText(source) === "listOrders");
      const type = method?.parameters[0]?.type;
      if (type && ts.isTypeLiteralNode(type)) listParams = type.members.map((m) => m.name.getText(source));
    } else if (ts.isTypeAliasDeclaration(node) && ts.isUnionTypeNode(node.type)) {
      const literals = node.type.types.filter((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal));
      if (literals.length === node.type.types.length) unions[node.name.text] = literals.map((t) => t.literal.text);
    }
  }
}
const typeOf = (iface, field) => interfaces[iface].types[field];
const enumOf = (iface, field) => unions[typeOf(iface, field)] ?? null;
const skip = new Set(["GenerateRequest", "Options", "WebhookEvent", "ClientOptions", "RequestOptions", "WaitOptions"]);
const models = Object.fromEntries(
  Object.entries(interfaces)
    .filter(([name]) => !skip.has(name))
    .map(([name, { fields, required }]) => [name, { fields, required }]),
);
const packageVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
console.log(
  JSON.stringify({
    versions: [packageVersion, sdk.VERSION],
    operations: sdk.OPERATIONS,
    error_codes: Object.fromEntries(Object.entries(sdk.ERROR_CODES).map(([code, cls]) => [code, cls.name])),
    error_statuses: Object.fromEntries(Object.entries(sdk.ERROR_STATUSES).map(([status, cls]) => [status, cls.name])),
    models,
    enums: {
      style: enumOf("GenerateRequest", "style"),
      quality: enumOf("Options", "quality"),
      format: enumOf("Options", "format"),
      category: enumOf("Options", "category"),
      status: enumOf("Order", "status"),
    },
    generate: {
      body: interfaces.GenerateRequest.fields,
      options: interfaces.Options.fields,
      headers: interfaces.RequestOptions.fields.includes("idempotencyKey") ? ["Idempotency-Key"] : [],
    },
    list_orders: listParams,
  }),
);
